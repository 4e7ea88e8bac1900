"""The topic vocabulary shared with the rest of the system (see DESIGN.md)."""

TOPICS = (
    "international_desk", "gp", "urgent_medical", "emergency", "crisis_support", "school",
    "dutch_lessons", "volunteering", "registration", "health_insurance", "housing", "work",
    "inburgering", "discrimination", "meeting_people",
    "referral",  # another organisation handles it: the answer says who, and links to them
)
SAFETY_TOPICS = frozenset({"urgent_medical", "emergency", "crisis_support"})
