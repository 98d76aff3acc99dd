//! The fusion role with shoppers and carts on the simulator's recorded views and inputs
//! (`walkoutd replay --views --inputs`), scored against the simulation's truth, and its named
//! errors. Runs are deterministic; thresholds sit at or just below the figures measured when
//! this was last changed (calm, seed 1: MOTA by shopper 0.986, IDF1 0.993, event precision
//! 1.000, recall 1.000, 6/6 exact carts; the other families in `every_family_keeps_its_figures`) so
//! that regressions fail; the bars are higher (see the closing notes of issue 8).

use std::path::PathBuf;

use walkout_runtime::store_replay::{self, StoreReplayOptions};
use walkout_sim::{Scenario, SimParams};

fn config() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../calibration/sample-store.toml")
}

fn simulate(scenario: Scenario, seed: u64, name: &str) -> PathBuf {
    let store = walkout_geometry::StoreConfig::load(&config()).expect("store");
    let out = walkout_sim::simulate(&store, &SimParams::new(scenario, seed)).expect("sim");
    let dir = std::env::temp_dir().join(format!("walkout-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    walkout_sim::write(&out, &dir).expect("write");
    dir
}

/// Simulates `scenario` with `seed`, replays its views and inputs, and scores the result
/// against its truth (the directory is removed).
fn replay_scored(
    scenario: Scenario,
    seed: u64,
    name: &str,
) -> (store_replay::StoreReplayResult, store_replay::StoreScores) {
    let dir = simulate(scenario, seed, name);
    let mut opts = StoreReplayOptions::new(config(), dir.join("views"));
    opts.inputs = Some(dir.join("inputs"));
    let r = store_replay::run(&opts).expect("replay");
    let s = store_replay::score(&r, &dir.join("truth"), 10.0).expect("score");
    let _ = std::fs::remove_dir_all(&dir);
    (r, s)
}

#[test]
fn a_calm_store_is_tracked_by_shopper_and_its_picks_land_in_the_right_carts() {
    let (r, s) = replay_scored(Scenario::Calm, 1, "calm");
    println!("{s:?}");
    assert!(s.mota >= 0.95, "MOTA by shopper {:.3}", s.mota);
    assert!(s.idf1 >= 0.95, "IDF1 by shopper {:.3}", s.idf1);
    assert!(
        s.precision() >= 0.95,
        "event precision {:.3}",
        s.precision()
    );
    assert!(s.recall() >= 0.95, "event recall {:.3}", s.recall());
    assert!(s.carts_exact >= 6, "{} exact carts", s.carts_exact);
    assert_eq!(s.carts_silently_wrong, 0);
    // Every published event and cart names shoppers by pseudonym, never by token.
    let text = serde_json::to_string(&r.events).expect("json")
        + &serde_json::to_string(&r.carts).expect("json");
    assert!(!text.contains("tok-"), "a payment token was published");
}

/// Seed 1 of every other family, with the figures measured when this was written:
/// (family, IDF1 by shopper, exact carts, silently wrong carts at most, alone clothing
/// changes kept, ambiguous events at least).
#[test]
fn every_family_keeps_its_figures() {
    let cases = [
        // Figures since the sample store has 21 cameras (four more looking at shelf faces: a
        // hand at every level of every bay face is seen by two or more; with 17, hands at
        // the top level of the back row's faces were seen by one and a bay's change fell to
        // the bodies near it), shoppers' gaits settle doubts, and several units taken at once
        // are open among every shopper whose hand was seen in the level.
        // Measured: IDF1 0.969, 22/22 exact, 0 silently wrong, 0 ambiguous: two takers of
        // coffee 0.3 s apart, one load-cell change of two units, are told apart by the cell's
        // readings (20/22 and 1 ambiguous before; 19/22 and 2 before
        // a shopper nobody saw stopped rivalling a hand that dwelt in the level as one known
        // shopper's; 18/22 and 4 with 17 cameras; 14/22 and 9 before identity doubts were
        // settled by outfits).
        (Scenario::Busy, 0.95, 22, 0, 0, 0),
        // Measured: IDF1 0.914, 6/6 exact, 0 silently wrong, the lone change kept, 0
        // ambiguous: two shoppers of one height who both changed clothes in the corridor are
        // told apart by their gaits once their tracks have walked (4/6 exact and 5 ambiguous
        // before gaits).
        (Scenario::ClothingChange, 0.90, 6, 0, 1, 0),
        // Measured: IDF1 0.992, 8/8 exact, 0 silently wrong, 0 ambiguous. Two takers of cola
        // 0.2 s apart at B2-4f are one load-cell change of two units that the readings split
        // into two contacts; the first one's hand was seen once, fused into both tracks, as
        // the second one's came in and dwelt: that glimpse does not say whose hand came for
        // the second can, and the first is the first taker's (before: 7/8, open among the two).
        (Scenario::Returns, 0.97, 8, 0, 0, 0),
        // Measured: IDF1 0.934, 8/8 exact, 0 silently wrong, 0 ambiguous. Since a shopper
        // kept by the crowd farther than an arm's reach from the shelf gives up on it (before,
        // they took from it from 1.1 m away), this seed's crowd is another: two pairs of
        // tracks swap in it at 22-29 s and are put right (identity recovered) before any
        // change at a shelf is theirs. (Before: IDF1 0.990, 6/8 exact, 1 ambiguous; 3/8 and 1
        // silently wrong with 17 cameras.)
        (Scenario::CrowdedShelf, 0.93, 8, 0, 0, 0),
        // Measured: IDF1 0.846, 4/4 exact, 0 silently wrong, 1 ambiguous event (resolved,
        // right): the pair that swaps outfits in the corridor is flagged there and told apart
        // by their gaits afterwards (IDF1 0.688 and 0/4 exact, 4 ambiguous, before gaits).
        (Scenario::Adversarial, 0.80, 4, 0, 0, 1),
    ];
    for (scenario, idf1, exact, wrong, kept, ambiguous) in cases {
        let (_, s) = replay_scored(scenario, 1, &format!("family-{}", scenario.name()));
        println!("{}: {s:?}", scenario.name());
        let name = scenario.name();
        assert!(s.idf1 >= idf1, "{name}: IDF1 by shopper {:.3}", s.idf1);
        assert!(s.carts_exact >= exact, "{name}: {} exact", s.carts_exact);
        assert!(
            s.carts_silently_wrong <= wrong,
            "{name}: {} silently wrong",
            s.carts_silently_wrong
        );
        assert!(s.alone_changes_kept >= kept, "{name}: {s:?}");
        assert!(
            s.alone_changes_kept == s.alone_changes,
            "{name}: a lone change lost: {s:?}"
        );
        assert!(s.ambiguous_events >= ambiguous, "{name}: {s:?}");
        assert_eq!(
            s.ambiguous_resolved, s.ambiguous_resolved_right,
            "{name}: {s:?}"
        );
    }
}

/// Adversarial seeds 18 and 8: the pair that swaps outfits in the restroom corridor comes out
/// while one of them was still bound to a track at its mouth (18), or on a track of their own
/// inside it (8). Before blind-spot doubts the tracks went on with the wrong ones and carts
/// were silently wrong (2 and 1); now the swaps are flagged. Seed 19: a shopper just out of
/// the corridor (outfit unknown) passes another head-on and their tracks swap; the other's
/// track stops looking like them while the first one's now wears their outfit: the tracks are
/// swapped back (1 silently wrong cart before). Seed 27: a track at the exit drops out for a
/// moment and comes back; its shopper was taken for gone and a lost shopper still in the store
/// was "found" on it and let out, their later picks falling to nobody (1 silently wrong cart
/// before): at the exit a track must stay unseen for 2 s before its shopper has left. Seed
/// 252: a shopper whose track was in doubt (it may have taken out a shopper lost in the
/// corridor, of one height) walked out; the track found coming out of the corridor later was
/// taken surely for the lost shopper, which settled an open pick wrongly and left a third
/// shopper's cart silently short; now the one who left is a candidate of that track too, and
/// both picks stay open with their takers among the candidates. Seeds 177 and 259: four
/// shoppers of one height change clothes together in the corridor and one walks out in doubt;
/// a later doubt between two of the others was settled by their tracks' gaits, as if the two
/// tracks were those two, while one of them was the one taken for gone (1 silently wrong cart
/// each); gaits settle nothing while one who walked out in doubt with either may be on them.
/// Head heights 3.1 cm apart settled a doubt of seed 259's between two of them (keeping fitted
/// 5.6 cm better than swapping, under twice the 3 cm margin but over the 3.1 cm between them)
/// while each was in doubt with others of that height too: 1 silently wrong cart. Heights
/// are read that finely only between two shoppers in doubt with nobody else.
#[test]
fn a_swap_in_the_blind_spot_is_flagged_not_silently_wrong() {
    for seed in [18, 8, 19, 27, 252, 177, 259] {
        let (r, s) = replay_scored(Scenario::Adversarial, seed, &format!("adversarial-{seed}"));
        println!("seed {seed}: {s:?}");
        assert_eq!(s.carts_silently_wrong, 0, "seed {seed}: {s:?}");
        assert!(
            r.events.iter().any(
                |e| matches!(e.kind, walkout_types::EventKind::Ambiguous { .. })
                    && e.ambiguous.is_some()
            ),
            "seed {seed}: no doubt at the corridor"
        );
    }
}

/// Shelf evidence read whole (exact carts at least, silently wrong carts at most). Busy seed
/// 12: two shoppers about as near a bay that lost an item, no hand seen; one had stood there,
/// the other was walking on past (20/22 exact before, both flagged). Returns seed 7: a coffee
/// put back among toothpaste; its weight fell as the hand let go and rose again as it settled,
/// and was once split there into 4 + 1 toothpastes (7/8 exact, 1 silently wrong). Returns seed
/// 18: a bag of sugar put back and two taken 0.4 s later on one level, one change of one bag
/// taken, given to the one who put it back (2 silently wrong); the weight first rose by more
/// than a hand presses: now open (6 of 8 exact); the load cell's readings fit two contacts,
/// moving the weight opposite ways, each given to the hand first seen on its side of the
/// moment between them (8 of 8). Busy seed 24: a packet of tea put back at bay C1-2f and
/// another taken by a neighbour 0.5 s later, no net change: nothing was read (the one who put
/// it back kept it, 1 silently wrong); the readings' two contacts are a return and a pick (18
/// of 22, the rest identity doubts); a track that slid from its shopper onto a neighbour
/// whose own track was then lost wore the neighbour's outfit from 0.3 s after that neighbour
/// took a water: the hand, seen through both tracks, was open between the two shoppers; the
/// track is the neighbour's from an outfit's lag before it showed (19 of 22); a track that
/// slid off its shopper onto another was given to that other at 84.1 s, and the first
/// shopper, found at 85.0 s on a track born at 83.0 s, owned it only from 84.1 s: a water
/// that shopper took at 83.2 s, their hand seen through the new track, was open among three;
/// now theirs, from the new track's start (20 of 22). The 2 wrong carts left are one change
/// of two bags of sugar decided for the wrong one of two shoppers whose doubt was settled by
/// outfits: as wrong before, but not silently then (the water named both as candidates). Busy seed 29: a hand 1.09 m from the body it was named for
/// (another's, seen through that body's track) gave a biscuit to the wrong shopper (2
/// silently wrong); now open. Busy seed 23: two takers of tea 0.3 s apart at bay A2-2f, one
/// change of two units; the second one's hand, 0.55 m from the first one's at the same ticks,
/// was fused into the first one's track: both units went to the first (2 silently wrong);
/// two hands at once that far apart are two bodies' (17 of 22 exact, open); a shopper lost
/// beside another right after coming in, their outfit never learnt (heights 1 cm apart), held
/// three picks of the other one open: the other's outfit, worn by their track still and not
/// by the found one, settles it (18 of 22); two more pairs of takers 0.3 s apart, their
/// changes of two units told apart by the load cell's readings (21 of 22). Busy seed 28: a bag
/// of pasta taken at bay A2-1f by a shopper whose hand was seen once 0.9 s before (fused into
/// another's track too), then from when the change began; a neighbour's hand seen once 0.3 s
/// into it was taken for the one that came in with the change (2 silently wrong); the taker's
/// hand came in anew then (20 of 22 exact). Its last open cart: two bars of chocolate taken
/// 0.8 s apart at bay B2-3b, one change split at the second contact; the first taker's hand
/// dwelt in the level for the first bar and left before the second contact, and no hand was
/// seen making it: it was open between the first taker and the other shopper within reach;
/// a hand that left would have been seen coming back (22 of 22). Crowded-shelf seed 7: two cans of beans taken
/// 0.6 s apart at bay A1-2f; the second hand pressed the shelf up by 67 g as the first can's
/// weight was still going, one change of two cans to the first taker (5 of 8 exact, 1
/// silently wrong); a rise of 25 g after a fall is a second contact (6 of 8 exact). One of its
/// carts is silently wrong since a bottle of water taken at bay A1-4f at t = 21.2, open among
/// four, is decided (rightly: the taker's hand seen low at the face by one camera): that
/// shopper's cart is no longer flagged, and it holds a bag of pasta taken at t = 13.7 by a
/// shopper reaching in from beside the bay's end (the hand seen was named for the one in
/// front of it). So is another since a can of beans taken at bay A1-2f level 2 at t = 14.6,
/// open between the taker and a neighbour, is decided (rightly: the neighbour's own hand took
/// a can from that level 0.5 s later): the taker's cart is no longer flagged, and it holds
/// that bag of pasta (6 of 8 exact; the same two carts wrong, both now silently).
#[test]
fn shelf_evidence_is_read_whole_or_left_open() {
    for (scenario, seed, exact, wrong) in [
        (Scenario::Busy, 12, 22, 0),
        (Scenario::Returns, 7, 8, 0),
        (Scenario::Returns, 18, 8, 0),
        (Scenario::Busy, 24, 20, 2),
        (Scenario::Busy, 29, 20, 0),
        (Scenario::Busy, 23, 21, 0),
        (Scenario::Busy, 28, 22, 0),
        (Scenario::CrowdedShelf, 7, 6, 2),
    ] {
        let name = format!("{}-{seed}", scenario.name());
        let (_, s) = replay_scored(scenario, seed, &name);
        println!("{name}: {s:?}");
        assert!(s.carts_exact >= exact, "{name}: {s:?}");
        assert!(s.carts_silently_wrong <= wrong, "{name}: {s:?}");
    }
}

/// An arm reaches forward into a bay. Busy seed 0: a hand at 5.40 m along bay A1-2f, its wrists
/// fused into the tracks of two shoppers standing 0.1 m and 0.4 m along the face from it, left
/// a bag of rice open between them (20 of 22 carts exact); it is the one's in front of it. Busy
/// seed 14: two tubes of toothpaste taken in one contact were open between the taker and a
/// shopper 1.1 m along the shelf whose track a sighting of the taker's hand went to (21 of 22).
/// Busy seed 38: a bag of pasta taken at bay B1-3f, its hand seen through a flickering track
/// beside the taker's and once through the tracks of two others, one 0.9 m from it (busy at
/// another level) and one 1.8 m away: open with the one 1.8 m away (21 of 22); a body farther
/// from a hand than an arm and a lean did not make it (22 of 22).
#[test]
fn a_hand_in_a_bay_is_the_body_standing_in_front_of_it() {
    busy_carts_all_exact(&[0, 14, 38]);
}

/// At least `exact` of busy `seed`'s 22 carts exact, none silently wrong.
fn busy_carts_at_least(seed: u64, exact: usize) {
    let name = format!("busy-{seed}");
    let (_, s) = replay_scored(Scenario::Busy, seed, &name);
    println!("{name}: {s:?}");
    assert!(s.carts_exact >= exact, "{name}: {s:?}");
    assert_eq!(s.carts_silently_wrong, 0, "{name}: {s:?}");
}

/// All `carts` carts of `scenario` with `seed` exact, none silently wrong.
fn carts_all_exact(scenario: Scenario, seed: u64, name: &str, carts: usize) {
    let (_, s) = replay_scored(scenario, seed, name);
    println!("{name}: {s:?}");
    assert_eq!(s.carts_exact, carts, "{name}: {s:?}");
    assert_eq!(s.carts_silently_wrong, 0, "{name}: {s:?}");
}

/// Every cart of busy `seeds` (22 shoppers each) exact, none silently wrong.
fn busy_carts_all_exact(seeds: &[u64]) {
    for &seed in seeds {
        carts_all_exact(Scenario::Busy, seed, &format!("busy-{seed}"), 22);
    }
}

/// Two takers a moment apart, told apart by the load cell. Busy seed 1: two bags of coffee
/// taken 0.3 s apart at bay A2-2f, one change of two units on the load cell (the second
/// hand's press hidden in the first bag's fall) with the hands of both in the level: open
/// between them (20 of 22 carts exact). The readings fit two contacts 0.3 s apart, each a bag,
/// each given to the hand first seen as its bag left (22 of 22). Busy seed 32: the same 0.4 s
/// apart at bay A1-4b (20 of 22 before). Busy seed 19: two bags of nuts taken 0.5 s apart at
/// bay B1-2b; the second press rose from a trough where the first bag's weight was half gone,
/// no whole bag to split at (20 of 22 before). Busy seed 22: two tubes of toothpaste taken
/// 0.2 s apart at bay A2-1b, each hand first seen as its tube left the shelf, the first one at
/// the second press's start: both parts were open (20 of 22); hands are divided at the moment
/// between the two tubes' leaving (22 of 22). Busy seed 36: two bars of soap taken 0.1 s
/// apart at bay B2-2b, their presses rising 0.6 kg together (taken for an item put back in
/// the same moment: open); the fit once put the second press between two readings, no whole
/// bar to each (20 of 22); contacts are at least a reading apart (22 of 22).
#[test]
fn two_takers_a_moment_apart_are_two_contacts_on_the_load_cell() {
    busy_carts_all_exact(&[1, 32, 19, 22, 36]);
}

/// One contact, one hand. Busy seed 7: two bags of crisps taken in one press at bay B2-1b by
/// a shopper whose hand dwelt there; hands of neighbours standing within reach were glimpsed in
/// the level once or twice, and the two bags were open among them (21 of 22 carts exact). The
/// load cell's readings fit one contact: the glimpsed hands took nothing (22 of 22). Busy seed
/// 27: the same at the same bay, a neighbour's hand seen 1.1 m from the taker's at one tick
/// (21 of 22 before).
#[test]
fn a_hand_glimpsed_beside_a_dwelling_one_takes_no_share_of_one_contact() {
    busy_carts_all_exact(&[7, 27]);
}

/// Calm seed 18: two shoppers stood 0.25 m apart at bay C2-1b, one track on both; the other's
/// track was lost, and the one track slid onto that other shopper's body while their hand took
/// two packs of biscuits, seen through it from 54.2 s to 54.8 s. The tracks' outfits dated the
/// track's passing to them at 54.8 s, in the middle of that reach: the biscuits were open
/// between the two (4 of 6 carts exact). One reach seen through one track is one body's: the
/// passing is dated from before it (6 of 6).
#[test]
fn a_track_passes_its_shopper_on_before_a_reach_seen_through_it() {
    carts_all_exact(Scenario::Calm, 18, "calm-18", 6);
}

/// Busy seed 15: a crowd passing its shoppers round. A shopper lost beside another (a doubt
/// between the two) was found again by their outfit on a third shopper's track: their doubt
/// stayed open for good, and the juice the other took was held for it. Another shopper was
/// found on a track born on a lost shopper's body, that never looked like them, and was then
/// given to its own shopper from when its outfit showed it: the rice taken through it before
/// that was named for the wrong one (19 of 22 carts exact). A shopper found by their outfit
/// has their doubts checked by head heights, as one found on a new track; a track that never
/// looked like the shopper found on it was the other one's from when that binding began (21
/// of 22; the last is a water open between two bodies 0.42 m from the bay).
#[test]
fn a_shopper_found_by_their_outfit_has_their_doubts_checked() {
    busy_carts_at_least(15, 21);
}

/// Busy seed 66: a pick at level 1 of bay B1-3b (t = 47.4) is open between two shoppers
/// there; 0.6 s later one of them takes from level 0 with their hand seen in it. One body
/// makes one change at a time: the first pick is the other one's (22 of 22).
#[test]
fn a_pick_open_between_two_goes_to_the_one_who_made_no_other_change_then() {
    busy_carts_at_least(66, 22);
}

/// Busy seed 49: a bag of nuts put back at bay B1-2b, the hand seen mostly through a track of
/// nobody's, and once through the track of a shopper standing there who carried no nuts: the
/// return was theirs, silently wrong (21 of 22 carts exact). Returns seed 56: a bag of sugar put
/// back with no hand seen, named for the nearer of two bodies, who carried none (7 of 8, one
/// silently wrong). A shopper puts back only what they carry: of those within reach, the one
/// who carries it (22 of 22; 8 of 8).
#[test]
fn a_put_back_is_of_one_who_carries_the_item() {
    busy_carts_all_exact(&[49]);
    carts_all_exact(Scenario::Returns, 56, "returns-56", 8);
}

/// Busy seed 42: a box of cereal taken from bay B1-1b level 2; one shopper's hand glimpsed
/// once 0.1 s after the change began, another's 0.6 s after it (then once more, fused into
/// both tracks). The first glimpse named its shopper, silently wrong (20 of 22 carts exact).
/// Hands each glimpsed plainly only once, none dwelling, are all candidates: of the two bodies,
/// the one standing in front of the hands took it (the other stood 0.66 m along the face from
/// them), 22 of 22.
#[test]
fn hands_each_glimpsed_once_leave_the_change_open() {
    busy_carts_all_exact(&[42]);
}

/// Busy seed 47: a bottle of water taken at bay B2-1f level 0; a neighbour's hand had been in
/// the level a second before (an earlier reach), and the taker's was seen once plainly as the
/// change began: the neighbour's hand, seen more often in all, was taken for the one that
/// dwelt, silently wrong (19 of 22 carts exact). Sightings from before the change's run of
/// hands began do not count (21 of 22).
#[test]
fn a_hand_seen_in_an_earlier_reach_does_not_dwell_in_this_one() {
    busy_carts_at_least(47, 21);
}

/// Busy seed 46 (held out): two bars of chocolate taken from the lowest level of bay B1-4b by a
/// shopper standing still in front of it; a neighbour walking up beside them passed so close
/// that their track took in the taker's detections, and the hand dwelt in the level seen
/// through it. The chocolate went to the walker (19 of 22 carts exact, 2 silently wrong). The
/// hand was seen through the taker's own track too: the one who stood still is a candidate,
/// and is kept over the one who walked (20 of 22, none silently wrong). The two units were then
/// open between the two: the walker's track went unseen at the tick a second before, so the
/// walk was read only at the ends of that second where it was seen; read so, the walker takes
/// no share (21 of 22).
#[test]
fn a_hand_seen_through_a_walkers_track_is_also_of_the_body_standing_still_in_front_of_it() {
    busy_carts_at_least(46, 21);
}

/// Busy seed 50 (held out): two bags of pasta taken from the lowest level of bay C1-4f by a
/// shopper standing still right in front of the hand; a neighbour walking up 0.6 m along the
/// face had the hand fused into their track too, and a third shopper's own hand was in the
/// level 0.6 m the other way. That third hand counted in how far along the face the taker stood
/// from "the hands", so the taker did not stand in front of them, and the walker took a share:
/// open between the two (21 of 22). Hands seen only through other shoppers' tracks do not
/// count there, and a walker read at the ends of the second takes no share (22 of 22).
#[test]
fn a_hand_of_a_shopper_who_is_no_candidate_does_not_say_where_the_hands_were() {
    busy_carts_all_exact(&[50]);
}

/// Two takers at once. Busy seed 35: two bags of rice taken in the same moment at bay A1-2f,
/// one by each of two shoppers standing 0.95 m apart, both hands seen dwelling in the level at
/// the same ticks, one change of two units on the load cell: open between the two (20 of 22
/// carts exact). As many units as hands seen there at once: one each (22 of 22).
#[test]
fn as_many_units_as_hands_dwelling_in_the_level_at_once_are_one_each() {
    busy_carts_all_exact(&[35]);
}

/// Busy seed 6: a box of cereal taken from the top level of bay C2-1b by a shopper standing
/// beyond the bay's end, another standing before it; no camera pair saw the hand, one camera at
/// a time glimpsed it high on the bay's face through the taker's detection. Open between the
/// two before (20 of 22 carts exact); the glimpse names the taker. Busy seed 13: a carton of
/// juice taken from the top level of bay A1-4f; the taker's wrist was glimpsed through the
/// detections of both shoppers standing at it, entering the face in front of the taker and
/// 0.5 m along it from the other (20 of 22 before); it is the one's in front of it.
#[test]
fn a_hand_glimpsed_by_one_camera_names_the_taker() {
    busy_carts_all_exact(&[6, 13]);
}

/// A hand fused into a body beyond an arm from it. Busy seed 415: a bar of chocolate taken at
/// bay B2-3b at t = 41.3 by a shopper standing 0.5 m from their hand; in the cameras that saw
/// it their box overlapped a neighbour's, and fusion gave it, wrist and all, to the
/// neighbour's track 0.8 m from the hand: silently wrong (20 of 22 exact, 2 silently wrong).
/// Returns seed 405: a bag of coffee taken at bay C1-2f at t = 68.4, the hand fused for 1.5 s
/// into the track of a shopper 0.8-0.95 m off while the taker stood 0.45-0.55 m from it (6 of
/// 8, 2 silently wrong). Such a hand is the nearest body's (22 of 22; 8 of 8).
#[test]
fn a_hand_fused_into_a_body_beyond_an_arm_from_it_is_the_nearest_bodys() {
    busy_carts_all_exact(&[415]);
    carts_all_exact(Scenario::Returns, 405, "returns-405", 8);
}

/// A hand is whose outfit the boxes carrying its wrist wear. Busy seed 586: a bag of nuts taken
/// at bay B1-2b level 2 at t = 74.5; the boxes carrying the taker's wrist were fused into a
/// neighbour's track 0.8 m from the hand, and the pick was named for the neighbour alone:
/// silently wrong (20 of 22 exact, 2 silently wrong). Busy seed 610: a packet of biscuits taken
/// at bay C2-1b level 1 at t = 66.5, the wrist's boxes fused into two shoppers' tracks: open
/// between them (20 of 22). Each wrist box wears its own person's outfit: both hands are the
/// taker's (22 of 22 each).
#[test]
fn a_hand_is_of_the_track_whose_outfit_its_wrist_boxes_wear() {
    busy_carts_all_exact(&[586, 610]);
}

/// A brief hand in boxes wearing its shopper's own outfit is theirs. Busy seed 15: a bottle of
/// water taken at bay A1-4f level 0 at t = 83.4 by a shopper whose hand was seen there at only
/// a few ticks (not dwelling); another shopper, unseen then and last seen beside the bay,
/// could have lent that track their hand (a body merged into a neighbour's track): open
/// between the two (21 of 22 carts exact). Busy seed 77: a can of cola at bay A1-4f level 1
/// at t = 67.3, the same (21 of 22). The boxes carrying the wrist wore the taker's outfit at
/// two ticks or more: no one else's body lent it (22 of 22 each). (Busy 15's water is open
/// again, 21 of 22 with none silently wrong: the neighbour stands 0.18 m from the taker, the
/// two in one track, and the rays through the taker's hand pass the neighbour's hanging hands,
/// so no hand is seen in the bay.)
#[test]
fn a_brief_hand_in_boxes_wearing_its_shoppers_outfit_is_theirs() {
    busy_carts_all_exact(&[77]);
    busy_carts_at_least(15, 21);
}

/// A hand seen through a walker's track. Busy seed 108: a bag of crisps taken from bay C1-3b
/// level 1 at t = 77.0 by a shopper standing at it (their track unseen for a few ticks as it
/// changed); the hand was seen once, fused into the track of a shopper walking past 1.0 m
/// from it: open between the two (20 of 22 carts exact). A shopper stops to take an item: the
/// walker is no candidate (22 of 22).
#[test]
fn a_hand_seen_through_a_walker_beyond_an_arm_is_of_the_one_who_stood_there() {
    busy_carts_all_exact(&[108]);
}

/// Two picks from one level a moment apart. Busy seed 501: a bag of crisps taken from bay
/// C1-3b level 0 at t = 44.3, no hand seen, open between the taker and a neighbour (21 of 22
/// carts exact); the neighbour's own hand, seen in the level from t = 44.9 on, took another
/// bag there 0.5 s later, named for them alone. Busy seed 161: a bag of coffee taken from bay
/// A1-3f level 0 at t = 45.8, open between two, the other one taking a bag there 0.7 s later
/// with their hand seen (20 of 22). A body takes what it takes from a level in one reach: the
/// open pick is the other one's (22 of 22 each). (Busy 501 has a bag of coffee at bay A2-2f
/// at t = 30.4 open too: its taker's hand, its two boxes fused into two tracks, is seen
/// through a ray that passes a neighbour's hanging hand, that neighbour's box in one of those
/// tracks; no hand in the bay, open between the two: 21 of 22, none silently wrong.)
#[test]
fn a_pick_open_between_two_is_the_others_when_one_took_from_that_level_a_moment_apart() {
    busy_carts_all_exact(&[161]);
    busy_carts_at_least(501, 21);
}

/// Busy seed 316: two cans of cola taken at bay A1-4f level 1 at t = 38.2 by tok-5, open among
/// five shoppers and named first for another; one put back by tok-5 at t = 64.9, their hand
/// seen. A put-back is of one who carries the item, and tok-5 carried none in cart or pending:
/// it went to another within reach who did, silently wrong (18 of 22 carts exact once the
/// cola taken at t = 19.5 was no longer open with tok-5 among its candidates). A candidate of an
/// open pick may carry its item (19 of 22, none silently wrong).
#[test]
fn a_candidate_of_an_open_pick_may_put_its_item_back() {
    busy_carts_at_least(316, 19);
}

/// A hand taking from a low level, seen by one camera only. Busy seed 134: a can of cola taken
/// from bay A1-4f level 1 at t = 78.8, two shoppers within reach and no hand seen by two
/// cameras: open between them (20 of 22 carts exact). One camera 5 m off saw the taker's wrist
/// at the face, its ray nowhere near the taker's hips: a hand reaching, not hanging, and the
/// box it came with was the taker's (22 of 22). Busy seed 43: a bag of pasta taken from bay
/// B2-2f level 0 at t = 69.1, open between two (18 of 22); only cameras across the store saw
/// the hand (where, not whose: a far camera sees people one behind the other as one box), at
/// the face 0.1 m along it from one shopper and 0.44 m from the other: the one in front of it
/// (20 of 22).
#[test]
fn a_low_hand_one_camera_sees_away_from_the_hips_names_the_taker() {
    busy_carts_all_exact(&[134]);
    busy_carts_at_least(43, 20);
}

/// Busy seed 2: two cans of cola taken by a shopper whose identity was in doubt with two others
/// (their tracks had met). Both doubts were settled later, one at a time, but the pick was held
/// for the pair of them and never released (21 of 22 carts exact); it is released once neither
/// doubt is open. The seed also holds two bottles of water taken at bay B2-1f level 0 at
/// t = 66.9 by a shopper standing 0.52 m from the bay, while another, who had taken one there
/// 1.6 s before, walked on past 0.2 m from it; the taker's hand was seen by one camera only.
/// The walker's hand of the earlier pick, seen 1.0 s before this one began, made that pick,
/// not this one; and with no hand seen, the walker is no nearer than the one who stood there
/// (with only one of the two, or neither, the bottles were silently the walker's: 20 of 22).
#[test]
fn a_pick_held_for_doubts_with_two_shoppers_is_released_once_both_are_settled() {
    busy_carts_all_exact(&[2]);
}

/// Busy seed 3: a can of cola taken at bay B2-1f as the change began at t = 59.3; another
/// shopper's track walked up, came within a metre of the taker's at 59.4, and the taker's
/// track was lost beside it at 59.6: the doubt, from less than a second after the change,
/// left the can open between the two (21 of 22 carts exact). Their tracks were 1.1 m apart as
/// the change began, each its own shopper's: the can is the taker's (22 of 22).
#[test]
fn tracks_that_came_together_after_a_change_leave_it_to_its_shopper() {
    busy_carts_all_exact(&[3]);
}

/// Busy seed 26: a shopper lost beside another half a second after coming in, their head height read
/// once (1.46 m; they are 1.67 m tall). Found again, their track measured 1.68 m and the
/// other's went on measuring 1.60 m, as before: against the one reading, keeping the bindings
/// and swapping them were as far off, so the doubt stayed open and held seven picks of the
/// two (19 of 22 exact). A height read fewer than ten times is not known; the other's height
/// alone settles it (21 of 22). Its last open cart: two bags of crisps taken in one contact at
/// bay B2-1b by a shopper whose hand dwelt there; a neighbour who had stood within reach was
/// seen with a hand in the level once, 1.1 s after the change began, when the weight stood at
/// its new level, and was
/// given a share of the two (open); a hand first seen once the weight had settled took no
/// part (22 of 22).
#[test]
fn a_head_height_read_once_does_not_hold_a_doubt_open() {
    busy_carts_all_exact(&[26]);
}

/// One body, one change at a time. Busy seed 29: a shopper took a bag of crisps from bay A2-3b
/// as a packet of biscuits went from a level of A2-2b beside it, 0.5 s later; the hand seen in
/// the biscuits' level was named for that shopper's track, 1.09 m from it (farther than an arm
/// and a lean), and the biscuits were open between that shopper and another within reach (20
/// of 22 carts exact). The one named alone for the crisps did not take them (22 of 22).
#[test]
fn one_body_makes_one_change_at_a_time() {
    busy_carts_all_exact(&[29]);
}

/// One hand, one place. Calm seed 5: a shopper takes toothpaste from the top level of bay C1-4b
/// as another takes shampoo from the level below, 0.1 s later; no camera pair saw the second
/// hand, and the shampoo was open between the two (4 of 6 carts exact). The first one's hand
/// was seen in the top level as the change began: the shampoo is the other's. Crowded-shelf
/// seed 5: the same at another bay (6 of 8 before).
#[test]
fn a_body_whose_hand_was_busy_in_another_level_did_not_make_the_change() {
    for (scenario, seed, shoppers) in [(Scenario::Calm, 5, 6), (Scenario::CrowdedShelf, 5, 8)] {
        let name = format!("{}-{seed}", scenario.name());
        let (_, s) = replay_scored(scenario, seed, &name);
        println!("{name}: {s:?}");
        assert_eq!(s.carts_exact, shoppers, "{name}: {s:?}");
        assert_eq!(s.carts_silently_wrong, 0, "{name}: {s:?}");
    }
}

/// Clothing-change seed 12: two shoppers 1.735 m and 1.698 m tall were in the restroom corridor
/// together, where clothes may change hands: outfits tell nothing about them. Learnt, their
/// heights differ by 3.8 cm, under the 4 cm by which one track's height tells shoppers apart,
/// and their doubt stayed open with their picks (4 of 6 carts exact). Found again, each track
/// measured within 1 cm of its own shopper's height and 3.5-5 cm off the other's; settling a
/// doubt compares both tracks with both shoppers, to 3 cm (6 of 6).
#[test]
fn a_doubt_between_shoppers_under_4_cm_apart_in_height_is_settled_by_both_tracks() {
    let (_, s) = replay_scored(Scenario::ClothingChange, 12, "clothing-change-12");
    println!("clothing-change-12: {s:?}");
    assert_eq!(s.carts_exact, 6, "{s:?}");
}

/// Clothing-change seed 558: a shopper (1.755 m) walks out of the restroom corridor in new
/// clothes as another (1.713 m, 4.2 cm shorter) walks in, and the incoming shopper's track
/// takes them on at its mouth; the one walking in changes alone inside and comes out on a new
/// track. The track that went on measured 1.750 m, the new one 1.728 m: swapping fits by 4.4
/// cm better than keeping, short of twice the 3 cm margin, and the doubt stayed open (1 of 3
/// lone changes kept, 4 of 6 carts exact). Between two shoppers in doubt with nobody else,
/// keeping and swapping need differ only by as much as their heights do where that is less:
/// each track then says the same (3 of 3 kept, 6 of 6). (Not where others are in doubt with
/// them too: adversarial seed 259's four shoppers within 4 cm of one height, below.)
#[test]
fn a_doubt_at_the_corridor_mouth_is_settled_by_as_much_as_the_two_heights_differ() {
    let s = three_lone_changes_kept(558);
    assert_eq!(s.carts_exact, 6, "{s:?}");
}

/// Clothing-change seed 14: a shopper (1.60 m) changes alone in the corridor, then stands at
/// a shelf where the cameras behind it see only their upper body and measure 1.72 m, the
/// height of a shopper still in the corridor. Heights measured beside shelves once gave the
/// track to that shopper (2 of 3 lone changes kept); they no longer count for that check.
#[test]
fn a_height_measured_beside_a_shelf_does_not_give_a_track_away() {
    let s = three_lone_changes_kept(14);
    assert_eq!(s.carts_silently_wrong, 0, "{s:?}");
}

/// Clothing-change `seed`'s scores, once its three lone changes are asserted kept.
fn three_lone_changes_kept(seed: u64) -> store_replay::StoreScores {
    let (_, s) = replay_scored(
        Scenario::ClothingChange,
        seed,
        &format!("clothing-change-{seed}"),
    );
    println!("{s:?}");
    assert_eq!(s.alone_changes, 3, "{s:?}");
    assert_eq!(s.alone_changes_kept, 3, "{s:?}");
    s
}

#[test]
fn missing_views_and_bad_lines_are_named_errors() {
    let dir = simulate(Scenario::Calm, 2, "bad");
    std::fs::remove_file(dir.join("views/cam3.jsonl")).expect("rm");
    let opts = StoreReplayOptions::new(config(), dir.join("views"));
    let e = store_replay::run(&opts)
        .expect_err("missing camera")
        .to_string();
    assert!(e.contains("cam3") && e.contains("cam3.jsonl"), "{e}");
    std::fs::write(dir.join("views/cam3.jsonl"), "{\"schema\":1,\n").expect("write");
    let e = store_replay::run(&opts).expect_err("bad line").to_string();
    assert!(e.contains("cam3.jsonl, line 1"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Clothing-change seed 9: a shopper is lost at the mouth of the restroom corridor (their
/// track went on with another shopper coming out) and changes alone inside; meanwhile a ghost
/// track (rays of two cameras crossing where nobody stands) flickers in the aisle for a few
/// ticks. It was taken for the lost shopper found again, so the shopper coming out of the
/// corridor in new clothes was nobody's and their pick fell to no cart (2 of 3 lone changes
/// kept, 1 silently wrong cart). A track must now last a second, seen steadily, first.
#[test]
fn a_ghost_track_does_not_take_the_place_of_a_shopper_in_the_corridor() {
    let (_, s) = replay_scored(Scenario::ClothingChange, 9, "clothing-change-9");
    println!("{s:?}");
    assert_eq!(s.alone_changes, 3, "{s:?}");
    assert_eq!(s.alone_changes_kept, 3, "{s:?}");
    assert_eq!(s.carts_silently_wrong, 0, "{s:?}");
    assert_eq!(s.carts_exact, 6, "{s:?}");
}

/// Clothing-change seed 115: a shopper changes clothes alone in the restroom corridor and,
/// walking out, passes a shopper walking in at its mouth; the incoming shopper's track takes
/// them on. The track is flagged there (either shopper) and given to the one who changed, by
/// head heights, 20 s later. The rows by shopper written after the fact are that shopper's
/// from the meeting on, so every lone change keeps its identity (2 of 3 when the rows kept
/// the binding of their tick).
#[test]
fn a_lone_change_put_right_later_keeps_its_identity() {
    let s = three_lone_changes_kept(115);
    assert!(s.ambiguous_events >= 1, "{s:?}");
    assert_eq!(s.carts_exact, 6, "{s:?}");
}

/// Rays through a person's two hanging hands, crossed between two views, are no hand in a
/// bay. Busy seed 190: a bar of soap taken at bay A2-1b level 0 at t = 60.0; a neighbour
/// 0.75 m off stood with their hands at their sides, and a ray through one of them in one view
/// met a ray through the other in another view inside the bay, a hand of theirs there; it stood
/// nearer the taken bar along the face than the taker did: the bar was silently theirs (20 of
/// 22 carts exact, 2 silently wrong). Busy seed 635: two bottles of water taken at bay B2-1f
/// level 0 at t = 43.8, where a neighbour picking at the next bay had such a crossed hand in
/// the level: the two bottles were open between the two (21 of 22). A ray of such a pair meets,
/// where hands hang and clear of the bays, a ray through a wrist of its own track's box in
/// another view: a hanging hand, no hand in the bay (22 of 22 each).
#[test]
fn crossed_rays_of_a_neighbours_hanging_hands_are_no_hand_of_theirs() {
    busy_carts_all_exact(&[190, 635]);
}
