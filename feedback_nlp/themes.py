"""The label set: the five commitment themes, the sentiment classes, the flags and the QDC mapping.

Everything else in the package reads the labels from here, so this is the one place to change
them. The content follows ``shared/THEMES.md`` (the label specification).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    """One commitment theme: its id (used everywhere as a plain string), name and scope."""

    id: str
    name: str
    description: str


THEMES: tuple[Theme, ...] = (
    Theme(
        "leading_voice",
        "Give patients a leading voice: inclusion & diversity",
        "Being involved and having a say: decisions and care plans, choice of services, chances "
        "to give feedback or join groups; carers and family included; equality, diversity and "
        "inclusion; accessibility adjustments for a person.",
    ),
    Theme(
        "listen_and_learn",
        "Listen & learn: communication & clarity of information",
        "How staff listened and explained: clarity and amount of information, jargon, being kept "
        "informed, results and letters, consistency between staff, patient records, what happens "
        "next.",
    ),
    Theme(
        "confidence_and_trust",
        "Confidence & trust",
        "Feeling confident and safe in the care: staff kindness, manner, respect and dignity, "
        "competence, responsiveness, continuity and levels of staff, cleanliness, feeling safe.",
    ),
    Theme(
        "access",
        "Access: simplicity & efficiency",
        "Getting to and through the service: appointments, waiting times, contacting services, "
        "referrals, admission and discharge, transport, parking, location, efficiency.",
    ),
    Theme(
        "effectiveness",
        "Effectiveness: impact & value",
        "What the care achieved and was worth: outcome and impact of treatment, pain and symptom "
        "control, diagnosis, medication supply, equipment, use of resources, learning from "
        "feedback.",
    ),
)

THEME_IDS: tuple[str, ...] = tuple(theme.id for theme in THEMES)

SENTIMENTS: tuple[str, ...] = ("positive", "neutral", "negative")

# Given to an empty or missing comment, which says nothing either way.
EMPTY_SENTIMENT = "neutral"

FLAGS: tuple[str, ...] = ("safeguarding", "personal_data")

# NHS Qualitative Data Categorisation framework v6 category -> theme. Categories absent from this
# table (general praise, food, environment, ...) map to no theme, as THEMES.md specifies.
QDC_CATEGORY_THEMES: dict[str, str] = {
    "Organisation & efficiency": "access",
    "Funding & use of financial resources": "effectiveness",
    "Staff manner & personal attributes": "confidence_and_trust",
    "Number & deployment of staff": "confidence_and_trust",
    "Staff responsiveness": "confidence_and_trust",
    "Staff continuity": "confidence_and_trust",
    "Competence & training": "confidence_and_trust",
    "Unspecified communication": "listen_and_learn",
    "Staff listening, understanding & involving patients": "listen_and_learn",
    "Information directly from staff during care": "listen_and_learn",
    "Information provision & guidance": "listen_and_learn",
    "Being kept informed, clarity & consistency of information": "listen_and_learn",
    "Contacting services": "access",
    "Appointment arrangements": "access",
    "Appointment method": "access",
    "Timeliness of care": "access",
    "Pain management": "effectiveness",
    "Diagnosis & triage": "effectiveness",
    "Referals & continuity of care": "access",
    "Discharge": "access",
    "Care plans": "leading_voice",
    "Patient records": "listen_and_learn",
    "Cleanliness, tidiness & infection control": "confidence_and_trust",
    "Provision of medical equipment": "effectiveness",
    "Service location": "access",
    "Transport to/ from services": "access",
    "Parking": "access",
    "Feeling safe": "confidence_and_trust",
    "Patient appearance & grooming": "confidence_and_trust",
    "Equality, Diversity & Inclusion": "leading_voice",
    "Admission": "access",
    "Supplying & understanding medication": "effectiveness",
    "Impact of treatment/ care": "effectiveness",
    "Psychological therapy arrangements": "access",
    "Existence of services": "access",
    "Choice of services": "leading_voice",
    "Out of hours support (community services)": "access",
    "Learning organisation": "effectiveness",
    "Interaction with family/ carers": "leading_voice",
}

# QDC columns that set a flag rather than a theme.
QDC_SAFEGUARDING_COLUMN = "Safeguarding concerns?"
QDC_PERSONAL_DATA_COLUMN = "Person identifiable info?"
QDC_TEXT_COLUMN = "FFT answer"
QDC_QUESTION_COLUMN = "FFT question"
# The Friends and Family Test rating the comment explains: 1 very good ... 5 very poor, 6 don't
# know (the QDC file also holds 7). A feature of the comment, never its sentiment label.
QDC_RATING_COLUMN = "FFT categorical answer"
QDC_SENTIMENT_COLUMN = "Comment sentiment"

# QDC "Comment sentiment": 1 very positive ... 5 very negative, 3 neutral or mixed.
QDC_SENTIMENT: dict[int, str] = {
    1: "positive",
    2: "positive",
    3: "neutral",
    4: "negative",
    5: "negative",
}
