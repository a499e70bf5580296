//! Category: templates the log gives no category, priced at the model's default category
//! (marketing unless the model says otherwise: the estimate errs high, RULES §1).
//! Counterfactual: each sent with the category set to utility (Viber: transactional), what a
//! business pays for order, account and appointment messages.

use super::{Context, Proposal, Strategy};
use crate::counterfactual::Edit;
use crate::event::{Category as Cat, Kind};
use crate::rates::Model;

pub struct Category;

impl Strategy for Category {
    fn name(&self) -> &'static str {
        "category"
    }

    fn applies(&self, _: &Model) -> bool {
        true
    }

    fn propose(&self, cx: &Context) -> Proposal {
        if cx.model.default_category != Cat::Marketing {
            return Proposal {
                edits: Vec::new(),
                note: format!(
                    "the model's default category is {}: nothing is priced as marketing for want of a category",
                    cx.model.default_category.name()
                ),
            };
        }
        let edits = (cx.lines())
            .filter(|(l, ev)| l.outcome.assumed_category && ev.kind == Kind::Template)
            .map(|(l, _)| Edit::Retype {
                event: l.event,
                kind: Kind::Utility,
            })
            .collect();
        Proposal {
            edits,
            note: "templates with no category (priced as marketing) sent as utility".into(),
        }
    }
}
