"""Measuring sticks that drive the running stack from outside (scripted citizens, reports)."""
