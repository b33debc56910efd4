"""One script per server under test; each is started as
``python -m bench.servers.<name> --port P [--mode M]`` pinned to one core."""
