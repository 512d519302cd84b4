"""`mlcode retrain`: refresh data, measure drift against the champion, decide, reproduce, gate, promote."""
