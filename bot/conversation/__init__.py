"""The conversation engine: Rasa decides the dialogue; our actions run in-process."""
