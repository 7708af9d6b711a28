"""Whole answers kept for reuse: the response cache of public queries in this process, and its
counterpart across processes through Redis. Entries go stale by domain events, not by timers."""
