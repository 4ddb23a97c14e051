"""Benchmarks. Figures are measured here, never asserted in timed unit tests.

    aduan bench                          # 50 citizens, 2 s think time: starts Rasa, actions, gateway + Telegram fake
    aduan bench --citizens 5 --think 0.5 # a quick smoke run
    aduan bench --saturate               # no pause between turns: the highest throughput
    aduan bench --bare default           # compare with a second Rasa server on Rasa's default stores
    aduan bench --use-running            # drive the running Rasa + action server (make run)
    aduan bench nlu [--messages 1000]    # model load time, parse p50/p95
    aduan bench --profile scaled         # 2 Rasa + 2 actions + 2 gateways on PostgreSQL + Redis lock store
    make bench                           # both profiles, 50 citizens, 2 s think (reports/bench.md)
    make bench-store                     # ticket-store throughput, one-turn web latency, memory (bench/run.py)

Results: JSON under reports/bench/, the table in reports/bench.md. `ADUAN_RASA_SPEEDUPS=off` starts
Rasa without nlu/speedups.py, to measure what it saves (CPU per turn in the report).
"""
