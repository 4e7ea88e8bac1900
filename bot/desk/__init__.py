"""The volunteers' desk: what volunteers see, and when a waiting newcomer hears from us."""
