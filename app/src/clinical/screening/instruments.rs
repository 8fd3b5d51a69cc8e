//! Question text, answer labels and scoring direction of each screening instrument, in the order
//! the standard forms print them.

use super::{Instrument, InstrumentDefinition, ItemDefinition, ScoringDirection};

use ScoringDirection::{Ascending, Descending};

/// Answers shared by every PHQ-9 and GAD-7 item, scored 0 to 3 in this order.
const FREQUENCY_ANSWERS: &[&str] = &[
    "Not at all",
    "Several days",
    "More than half the days",
    "Nearly every day",
];

const fn item(
    number: u8,
    question: &'static str,
    answers: &'static [&'static str],
    scoring: ScoringDirection,
) -> ItemDefinition {
    ItemDefinition {
        number,
        question,
        answers,
        scoring,
    }
}

/// Edinburgh Postnatal Depression Scale (Cox, Holden and Sagovsky, British Journal of Psychiatry,
/// 1987). The authors allow reproduction of the scale when the authors, the title and the source
/// of the paper are quoted, which the `citation` field does.
pub(super) static EPDS: InstrumentDefinition = InstrumentDefinition {
    instrument: Instrument::Epds,
    name: "Edinburgh Postnatal Depression Scale",
    citation: "Cox, J.L., Holden, J.M. and Sagovsky, R. (1987). Detection of postnatal \
               depression: development of the 10-item Edinburgh Postnatal Depression Scale. \
               British Journal of Psychiatry 150, 782-786.",
    instructions: "As you are pregnant or have recently had a baby, we would like to know how \
                   you are feeling. Please check the answer that comes closest to how you have \
                   felt in the past 7 days, not just how you feel today.",
    items: &[
        item(
            1,
            "I have been able to laugh and see the funny side of things",
            &[
                "As much as I always could",
                "Not quite so much now",
                "Definitely not so much now",
                "Not at all",
            ],
            Ascending,
        ),
        item(
            2,
            "I have looked forward with enjoyment to things",
            &[
                "As much as I ever did",
                "Rather less than I used to",
                "Definitely less than I used to",
                "Hardly at all",
            ],
            Ascending,
        ),
        item(
            3,
            "I have blamed myself unnecessarily when things went wrong",
            &[
                "Yes, most of the time",
                "Yes, some of the time",
                "Not very often",
                "No, never",
            ],
            Descending,
        ),
        item(
            4,
            "I have been anxious or worried for no good reason",
            &[
                "No, not at all",
                "Hardly ever",
                "Yes, sometimes",
                "Yes, very often",
            ],
            Ascending,
        ),
        item(
            5,
            "I have felt scared or panicky for no very good reason",
            &[
                "Yes, quite a lot",
                "Yes, sometimes",
                "No, not much",
                "No, not at all",
            ],
            Descending,
        ),
        item(
            6,
            "Things have been getting on top of me",
            &[
                "Yes, most of the time I haven't been able to cope at all",
                "Yes, sometimes I haven't been coping as well as usual",
                "No, most of the time I have coped quite well",
                "No, I have been coping as well as ever",
            ],
            Descending,
        ),
        item(
            7,
            "I have been so unhappy that I have had difficulty sleeping",
            &[
                "Yes, most of the time",
                "Yes, sometimes",
                "Not very often",
                "No, not at all",
            ],
            Descending,
        ),
        item(
            8,
            "I have felt sad or miserable",
            &[
                "Yes, most of the time",
                "Yes, quite often",
                "Not very often",
                "No, not at all",
            ],
            Descending,
        ),
        item(
            9,
            "I have been so unhappy that I have been crying",
            &[
                "Yes, most of the time",
                "Yes, quite often",
                "Only occasionally",
                "No, never",
            ],
            Descending,
        ),
        item(
            10,
            "The thought of harming myself has occurred to me",
            &["Yes, quite often", "Sometimes", "Hardly ever", "Never"],
            Descending,
        ),
    ],
};

/// Patient Health Questionnaire-9 (Kroenke, Spitzer and Williams, 2001).
pub(super) static PHQ9: InstrumentDefinition = InstrumentDefinition {
    instrument: Instrument::Phq9,
    name: "Patient Health Questionnaire-9 (PHQ-9)",
    citation: "Kroenke, K., Spitzer, R.L. and Williams, J.B.W. (2001). The PHQ-9: validity of a \
               brief depression severity measure. Journal of General Internal Medicine 16, \
               606-613.",
    instructions: "Over the last 2 weeks, how often have you been bothered by any of the \
                   following problems?",
    items: &[
        item(
            1,
            "Little interest or pleasure in doing things",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
        item(
            2,
            "Feeling down, depressed, or hopeless",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
        item(
            3,
            "Trouble falling or staying asleep, or sleeping too much",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
        item(
            4,
            "Feeling tired or having little energy",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
        item(
            5,
            "Poor appetite or overeating",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
        item(
            6,
            "Feeling bad about yourself — or that you are a failure or have let yourself or \
             your family down",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
        item(
            7,
            "Trouble concentrating on things, such as reading the newspaper or watching \
             television",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
        item(
            8,
            "Moving or speaking so slowly that other people could have noticed? Or the opposite — \
             being so fidgety or restless that you have been moving around a lot more than usual",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
        item(
            9,
            "Thoughts that you would be better off dead or of hurting yourself in some way",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
    ],
};

/// Generalized Anxiety Disorder-7 (Spitzer, Kroenke, Williams and Löwe, 2006).
pub(super) static GAD7: InstrumentDefinition = InstrumentDefinition {
    instrument: Instrument::Gad7,
    name: "Generalized Anxiety Disorder-7 (GAD-7)",
    citation: "Spitzer, R.L., Kroenke, K., Williams, J.B.W. and Löwe, B. (2006). A brief measure \
               for assessing generalized anxiety disorder: the GAD-7. Archives of Internal \
               Medicine 166, 1092-1097.",
    instructions: "Over the last 2 weeks, how often have you been bothered by the following \
                   problems?",
    items: &[
        item(
            1,
            "Feeling nervous, anxious, or on edge",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
        item(
            2,
            "Not being able to stop or control worrying",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
        item(
            3,
            "Worrying too much about different things",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
        item(4, "Trouble relaxing", FREQUENCY_ANSWERS, Ascending),
        item(
            5,
            "Being so restless that it is hard to sit still",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
        item(
            6,
            "Becoming easily annoyed or irritable",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
        item(
            7,
            "Feeling afraid, as if something awful might happen",
            FREQUENCY_ANSWERS,
            Ascending,
        ),
    ],
};
