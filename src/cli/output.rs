//! Rendering one target's results for people: the plan and the apply report as text (to stdout,
//! failures with their reasons; the plan's changes grouped by product and artifact under the
//! names the catalog gave them, `+` and `-` lines painted when colour is on). The JSON documents
//! are the library's ([`sc_assoc::document`]); how a run's targets are laid out is
//! [`super::layout`]'s. Nothing here decides an exit code or touches the network.

use super::colour::Paint;
use sc_assoc::actions::{ActionPlan, ActionStatus, ActionStep, pending_name};
use sc_assoc::apply::Status;
use sc_assoc::plan::Plan;
use sc_assoc::resolve::{Expansion, Names, Resolved};
use sc_assoc::run::{Prepared, Report};
use sc_assoc::triple::Triple;
use sc_assoc::verify::Confirmation;
use std::fmt::Write;

/// The plan for a reviewer: what each selector stood for, what could not be read, the changes
/// as a tree (product, artifact, then one `+`/`-` line per action, each named as the catalog names
/// it with the id beside, or the id alone), and the summary.
pub fn plan_text(prepared: &Prepared, resolved: &Resolved, paint: Paint) -> String {
    let expansions = &resolved.expansions;
    let mut out = String::new();
    if !expansions.is_empty() {
        out.push_str("Selectors expanded to the products' current provisioning artifacts:\n");
        for expansion in expansions {
            let _ = writeln!(out, "  {}", selector_line(expansion));
        }
        out.push('\n');
    }
    actions_text(&mut out, &prepared.actions, paint);
    let plan = &prepared.plan;
    match (plan.to_add.is_empty(), plan.to_remove.is_empty()) {
        (false, true) => out.push_str("sc-assoc will associate these service actions:\n\n"),
        (true, false) => out.push_str("sc-assoc will disassociate these service actions:\n\n"),
        (false, false) => out.push_str(
            "sc-assoc will associate (+) and disassociate (-) these service actions:\n\n",
        ),
        (true, true) => {}
    }
    for (triple, error) in &prepared.unreadable {
        let _ = writeln!(out, "  ! {triple}: could not read current state: {error}");
    }
    if !prepared.unreadable.is_empty() {
        out.push('\n');
    }
    changes_tree(&mut out, plan, &resolved.names, paint);
    if !prepared.actions.actions.is_empty() {
        let _ = writeln!(out, "{}", actions_summary(&prepared.actions));
    }
    if prepared.actions.has_changes() && !plan.has_changes() {
        // "No changes." would deny the action changes above.
        let _ = writeln!(
            out,
            "No association changes. {} association(s) already present.",
            plan.present.len()
        );
    } else {
        let _ = writeln!(out, "{}", plan.summary());
    }
    if !prepared.unreadable.is_empty() {
        // Without this, "No changes." above would read as a clean bill of health.
        let _ = writeln!(
            out,
            "Incomplete: {} declared association(s) could not be read and are left out of this plan.",
            prepared.unreadable.len()
        );
    }
    out
}

/// The declared service actions that change, one line each (`+` create, `~` update with a line
/// per field, `-` delete with the associations it takes away), before the associations: they
/// are made first.
pub fn actions_text(out: &mut String, actions: &ActionPlan, paint: Paint) {
    if !actions.has_changes() {
        return;
    }
    out.push_str("sc-assoc will create (+), update (~) and delete (-) these service actions:\n\n");
    for planned in &actions.actions {
        let name = printable(&planned.name);
        match &planned.step {
            ActionStep::Create { definition } => {
                let role = definition.assume_role.as_deref().unwrap_or("(none)");
                let line = format!(
                    "+ {name} (new): {} version {}, role {}",
                    printable(&definition.document),
                    printable(&definition.version),
                    printable(role)
                );
                let _ = writeln!(out, "  {}", paint.added(&line));
            }
            ActionStep::Update { id, changes, .. } => {
                let _ = writeln!(out, "  ~ {name} ({id})");
                for change in changes {
                    let shown = |value: &Option<String>| match value {
                        Some(value) => format!("`{}`", printable(value)),
                        None => "(none)".to_string(),
                    };
                    let _ = writeln!(
                        out,
                        "      {}: {} → {}",
                        change.field,
                        shown(&change.from),
                        shown(&change.to)
                    );
                }
            }
            ActionStep::Delete { id, associations } => {
                let line = match associations.len() {
                    0 => format!("- {name} ({id})"),
                    count => format!(
                        "- {name} ({id}), after removing its {count} association(s) listed below"
                    ),
                };
                let _ = writeln!(out, "  {}", paint.removed(&line));
            }
            ActionStep::InSync { .. } | ActionStep::AlreadyAbsent => {}
        }
    }
    out.push('\n');
}

/// `Actions: 1 to create, 1 to update, 0 to delete, 3 in sync.`
fn actions_summary(actions: &ActionPlan) -> String {
    let counts = actions.counts();
    let mut line = format!(
        "Actions: {} to create, {} to update, {} to delete, {} in sync",
        counts.create, counts.update, counts.delete, counts.in_sync
    );
    if counts.already_absent > 0 {
        let _ = write!(line, ", {} already absent", counts.already_absent);
    }
    line.push('.');
    line
}

/// ```text
///   Database (prod-db)
///     v1 (pa-1)
///       + Backup (act-7)
///   Web Server (prod-web)
///     v3 (pa-3)
///       + Restart (act-1)
///       - Stop (act-9)
/// ```
/// One heading per product and per artifact, because a manifest mostly gives several versions of
/// a product the same actions: the tree says each product and version once, where flat
/// `product / artifact / action` lines repeated them on every line. Each level is in the order of
/// what it shows (names, numbers within them by value, so v9 before v10; the id where no name is
/// known, and to break ties): ids are random, and in id order v4 would come before v3. The same
/// plan with the same names always prints the same way; an artifact's additions and removals
/// sit together.
pub fn changes_tree(out: &mut String, plan: &Plan, names: &Names, paint: Paint) {
    let mut changes: Vec<(&Triple, bool)> = plan
        .to_add
        .iter()
        .map(|t| (t, true))
        .chain(plan.to_remove.iter().map(|t| (t, false)))
        .collect();
    changes.sort_by(|(a, a_adds), (b, b_adds)| {
        let (a_shown, b_shown) = (shown(names, a), shown(names, b));
        a_shown
            .into_iter()
            .zip(b_shown)
            .map(|(x, y)| shown_order(x, y))
            .fold(std::cmp::Ordering::Equal, std::cmp::Ordering::then)
            .then(a_adds.cmp(b_adds))
    });
    let mut previous: Option<&Triple> = None;
    for (triple, adds) in &changes {
        let same_product = previous.is_some_and(|p| p.product == triple.product);
        if !same_product {
            let name = names.product(&triple.product);
            let _ = writeln!(out, "  {}", labelled(name, &triple.product));
        }
        if !same_product || previous.is_some_and(|p| p.artifact != triple.artifact) {
            let name = names.artifact(&triple.product, &triple.artifact);
            let _ = writeln!(out, "    {}", labelled(name, &triple.artifact));
        }
        let action = match pending_name(&triple.action) {
            // An action this run creates has no id yet.
            Some(name) => format!("{} (new)", printable(name)),
            None => labelled(names.action(&triple.action), &triple.action),
        };
        let line = if *adds {
            paint.added(&format!("+ {action}"))
        } else {
            paint.removed(&format!("- {action}"))
        };
        let _ = writeln!(out, "      {line}");
        previous = Some(triple);
    }
    if !changes.is_empty() {
        out.push('\n');
    }
}

/// What a reader sees of a triple at each level of the tree, as (name if known, id).
fn shown<'a>(names: &'a Names, triple: &'a Triple) -> [(Option<&'a str>, &'a str); 3] {
    [
        (names.product(&triple.product), &triple.product),
        (
            names.artifact(&triple.product, &triple.artifact),
            &triple.artifact,
        ),
        (names.action(&triple.action), &triple.action),
    ]
}

/// The order of two (name, id) entries as a reader sees them: by what is shown first (the name,
/// else the id), then by id, so two things of one name still have a fixed order.
fn shown_order(a: (Option<&str>, &str), b: (Option<&str>, &str)) -> std::cmp::Ordering {
    natural(a.0.unwrap_or(a.1), b.0.unwrap_or(b.1)).then_with(|| a.1.cmp(b.1))
}

/// Text order with runs of digits compared by value: `v2` < `v10`, `1.9` < `1.10`.
fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut a, mut b) = (a, b);
    loop {
        let (Some(x), Some(y)) = (a.chars().next(), b.chars().next()) else {
            return a.len().cmp(&b.len());
        };
        if x.is_ascii_digit() && y.is_ascii_digit() {
            let (a_digits, a_rest) =
                a.split_at(a.find(|c: char| !c.is_ascii_digit()).unwrap_or(a.len()));
            let (b_digits, b_rest) =
                b.split_at(b.find(|c: char| !c.is_ascii_digit()).unwrap_or(b.len()));
            let (a_value, b_value) = (
                a_digits.trim_start_matches('0'),
                b_digits.trim_start_matches('0'),
            );
            // Without leading zeros, a longer run is a larger number.
            match a_value
                .len()
                .cmp(&b_value.len())
                .then_with(|| a_value.cmp(b_value))
            {
                Ordering::Equal => (a, b) = (a_rest, b_rest),
                unequal => return unequal,
            }
        } else if x != y {
            return x.cmp(&y);
        } else {
            (a, b) = (&a[x.len_utf8()..], &b[y.len_utf8()..]);
        }
    }
}

/// `Web Server (prod-web)`, or `prod-web` when no name is known.
fn labelled(name: Option<&str>, id: &str) -> String {
    match name {
        Some(name) => format!("{} ({id})", printable(name)),
        None => id.to_string(),
    }
}

/// A name as the catalog gave it, with control characters (a newline, an escape sequence that
/// would recolour or move the cursor of the reviewer's terminal) shown as spaces: a name is
/// anyone's text, and it must not forge or hide a plan line.
fn printable(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// `m.yaml:4:16: prod-web (Web Server) artifacts: active → pa-1 (v1), pa-2 (v2)`.
fn selector_line(expansion: &Expansion) -> String {
    let product = match &expansion.product_name {
        Some(name) => format!("{} ({})", expansion.product, printable(name)),
        None => expansion.product.clone(),
    };
    let artifacts: Vec<String> = expansion
        .artifacts
        .iter()
        .map(|a| match &a.name {
            Some(name) => format!("{} ({})", a.id, printable(name)),
            None => a.id.clone(),
        })
        .collect();
    let artifacts = if artifacts.is_empty() {
        "(none)".to_string()
    } else {
        artifacts.join(", ")
    };
    format!(
        "{}: {product} artifacts: {} → {artifacts}",
        expansion.location, expansion.selector
    )
}

pub fn report_text(report: &Report) -> String {
    let mut out = String::new();
    let failures: Vec<_> = report.failures().collect();
    let failed_actions: Vec<_> = report
        .actions
        .iter()
        .filter(|a| a.status == ActionStatus::Failed)
        .collect();
    if !failures.is_empty() || !failed_actions.is_empty() {
        let _ = writeln!(out, "Failed:");
        for action in &failed_actions {
            if let Some(error) = &action.error {
                let _ = write!(
                    out,
                    "  ✗ service action {}: {}: {}",
                    printable(&action.name),
                    error.code,
                    error.message
                );
                if let Some(id) = &error.request_id {
                    let _ = write!(out, " (request id {id})");
                }
                out.push('\n');
            }
        }
        for outcome in &failures {
            if let Some(error) = &outcome.error {
                let _ = write!(
                    out,
                    "  ✗ {}: {}: {}",
                    outcome.triple, error.code, error.message
                );
                if let Some(id) = &error.request_id {
                    let _ = write!(out, " (request id {id})");
                }
                out.push('\n');
            }
        }
        out.push('\n');
    }
    let unknown: Vec<_> = report
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Unknown)
        .collect();
    if !unknown.is_empty() {
        let _ = writeln!(
            out,
            "Unknown (in flight when the run stopped; the change may or may not have been made):"
        );
        for outcome in &unknown {
            let _ = writeln!(out, "  ? {}", outcome.triple);
        }
        out.push('\n');
    }
    not_visible_text(&mut out, report);
    let not_attempted = report
        .outcomes
        .iter()
        .filter(|o| o.status == Status::NotAttempted)
        .count();
    if !report.actions.is_empty() {
        let _ = writeln!(out, "{}", action_outcomes_line(report));
    }
    let summary = &report.summary;
    let _ = write!(
        out,
        "Apply: {} created, {} already present, {} adopted, {} failed",
        summary.created, summary.already_present, summary.adopted, summary.failed
    );
    if summary.removed > 0 || summary.already_absent > 0 {
        let _ = write!(out, ", {} removed", summary.removed);
    }
    if summary.already_absent > 0 {
        let _ = write!(out, ", {} already absent", summary.already_absent);
    }
    if summary.healed > 0 {
        let _ = write!(out, ", {} healed", summary.healed);
    }
    if not_attempted > 0 {
        let _ = write!(out, ", {not_attempted} not attempted");
    }
    if summary.unknown > 0 {
        let _ = write!(out, ", {} unknown", summary.unknown);
    }
    if summary.not_visible > 0 {
        let _ = write!(out, ", {} not yet visible", summary.not_visible);
    }
    let _ = writeln!(
        out,
        " ({} desired; {} read calls, {} write calls; read {:.1}s, apply {:.1}s).",
        summary.desired,
        report.calls.reads,
        report.calls.writes,
        report.timings.read_ms as f64 / 1000.0,
        report.timings.apply_ms as f64 / 1000.0
    );
    if let Some(settle) = &report.settle {
        let _ = writeln!(out, "{}", settle_line(report, settle));
    }
    let wire = &report.calls.wire;
    if wire.retries > 0 || wire.throttled > 0 || wire.server_errors > 0 || wire.timeouts > 0 {
        let _ = writeln!(
            out,
            "On the wire: {} HTTP attempts, {} retried; {} throttled, {} answered 5xx, {} timed out, {} failed to connect.",
            wire.attempts,
            wire.retries,
            wire.throttled,
            wire.server_errors,
            wire.timeouts,
            wire.transport_errors
        );
    }
    out
}

/// `actions: 2 created, 1 in sync`: the action outcomes that happened, for one target's line.
pub fn actions_brief(actions: &[sc_assoc::actions::ActionOutcome]) -> String {
    let mut counts: Vec<(ActionStatus, usize)> = Vec::new();
    for action in actions {
        match counts
            .iter_mut()
            .find(|(status, _)| *status == action.status)
        {
            Some((_, count)) => *count += 1,
            None => counts.push((action.status, 1)),
        }
    }
    let words: Vec<String> = counts
        .iter()
        .map(|(status, count)| {
            let word = serde_json::to_value(status)
                .ok()
                .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                .unwrap_or_default();
            format!("{count} {word}")
        })
        .collect();
    format!("actions: {}", words.join(", "))
}

/// `Actions: 1 created, 1 updated, 3 in sync, 1 deleted, 0 failed.`
fn action_outcomes_line(report: &Report) -> String {
    let count = |status: ActionStatus| report.actions.iter().filter(|a| a.status == status).count();
    let mut line = format!(
        "Actions: {} created, {} updated, {} in sync",
        count(ActionStatus::Created) + count(ActionStatus::Healed),
        count(ActionStatus::Updated),
        count(ActionStatus::InSync)
    );
    for (status, words) in [
        (ActionStatus::Deleted, "deleted"),
        (ActionStatus::AlreadyAbsent, "already absent"),
        (ActionStatus::NotAttempted, "not attempted"),
        (ActionStatus::Unknown, "unknown"),
    ] {
        if count(status) > 0 {
            let _ = write!(line, ", {} {words}", count(status));
        }
    }
    let _ = write!(line, ", {} failed.", count(ActionStatus::Failed));
    line
}

/// The changes written but not shown by the listings within the settle window, and what to do.
fn not_visible_text(out: &mut String, report: &Report) {
    let late: Vec<_> = report
        .outcomes
        .iter()
        .filter(|o| o.status == Status::NotVisible)
        .collect();
    let Some(settle) = report.settle.as_ref().filter(|_| !late.is_empty()) else {
        return;
    };
    let _ = writeln!(
        out,
        "Not yet visible (written, but the listings did not show it within the {} settle window):",
        seconds(settle.window_ms)
    );
    for outcome in &late {
        let how = match (outcome.confirmed_by, &outcome.error) {
            (Some(Confirmation::Probe), _) => "the service confirmed it to a fresh-token probe",
            (Some(Confirmation::BatchReply), _) => "the batch reply confirmed it",
            (_, Some(_)) => "a fresh-token probe failed",
            _ => "unconfirmed",
        };
        let _ = write!(out, "  ~ {}: {how}", outcome.triple);
        if let Some(error) = &outcome.error {
            let _ = write!(out, " ({}: {})", error.code, error.message);
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "hint: the listings lag the writes longer than usual; run `sc-assoc plan` later to see \
         them, or apply again with a longer --settle\n"
    );
}

/// `Settled after 1.8 s: every change is shown by the listings (157 confirmed by them, 3 by
/// fresh-token probes; 4 rounds of reads, 3 probes, window 60 s).`
fn settle_line(report: &Report, settle: &sc_assoc::verify::Settlement) -> String {
    let count = |how: Confirmation| {
        report
            .outcomes
            .iter()
            .filter(|o| o.confirmed_by == Some(how))
            .count()
    };
    let confirmed: Vec<String> = [
        (Confirmation::Listing, "by them"),
        (Confirmation::Probe, "by fresh-token probes"),
        (Confirmation::BatchReply, "by the batch replies"),
    ]
    .into_iter()
    .map(|(how, by)| (count(how), by))
    .filter(|(n, _)| *n > 0)
    .map(|(n, by)| format!("{n} confirmed {by}"))
    .collect();
    let state = if !settle.complete {
        "Settling stopped"
    } else if report.summary.not_visible > 0 {
        "Settling gave up"
    } else {
        "Settled"
    };
    let shown = if settle.complete && report.summary.not_visible == 0 {
        "every change is shown by the listings"
    } else {
        "not every change is shown by the listings"
    };
    let mut details = confirmed.join(", ");
    if !details.is_empty() {
        details.push_str("; ");
    }
    format!(
        "{state} after {}: {shown} ({details}{} listing read(s), {} probe(s), window {}).",
        seconds(settle.waited_ms),
        settle.reads,
        settle.probes,
        seconds(settle.window_ms)
    )
}

/// `1.8 s`, `60 s`.
fn seconds(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        format!("{} s", millis / 1000)
    } else {
        format!("{:.1} s", millis as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::colour::ColorChoice;

    #[test]
    fn numbers_in_names_sort_by_value() {
        let mut shown = vec!["v10", "v9", "v1.10", "v1.9", "Backup", "v02", "v2", "v"];
        shown.sort_by(|a, b| natural(a, b).then_with(|| a.cmp(b)));
        assert_eq!(
            shown,
            ["Backup", "v", "v1.9", "v1.10", "v02", "v2", "v9", "v10"]
        );
    }

    #[test]
    fn a_name_can_neither_forge_a_line_nor_colour_the_terminal() {
        let shown = labelled(Some("Evil\n      + Fake \x1b[32mgreen\x1b[0m"), "prod-x");
        assert_eq!(shown, "Evil       + Fake  [32mgreen [0m (prod-x)");
    }

    #[test]
    fn the_tree_follows_names_and_falls_back_to_ids() {
        let t = |p: &str, a: &str, x: &str| Triple::new(p, a, x);
        let plan = Plan {
            to_add: vec![t("prod-b", "pa-z", "act-1"), t("prod-b", "pa-y", "act-1")],
            to_remove: vec![t("prod-b", "pa-z", "act-2"), t("prod-a", "pa-x", "act-3")],
            ..Plan::default()
        };
        let mut names = Names::default();
        names.insert_product("prod-b", Some("Alpha"));
        names.insert_artifact("prod-b", "pa-z", Some("v3"));
        names.insert_artifact("prod-b", "pa-y", Some("v10"));
        names.insert_action("act-1", Some("Restart"));
        names.insert_action("act-2", Some("Patch"));
        let mut out = String::new();
        changes_tree(&mut out, &plan, &names, Paint::stdout(ColorChoice::Never));
        assert_eq!(
            out,
            "  Alpha (prod-b)\n\
             \x20   v3 (pa-z)\n\
             \x20     - Patch (act-2)\n\
             \x20     + Restart (act-1)\n\
             \x20   v10 (pa-y)\n\
             \x20     + Restart (act-1)\n\
             \x20 prod-a\n\
             \x20   pa-x\n\
             \x20     - act-3\n\
             \n"
        );
    }
}
