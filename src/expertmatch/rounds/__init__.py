"""A review round beyond one solve: earlier assignments and declines (``history``), refilling
declined seats (``reassign``) and ranked substitutes (``reserves``)."""
