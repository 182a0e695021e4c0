"""Small helpers every other part uses: argument checks, seeded randomness, settings, safe files.

    checks   a ValueError naming the argument, what was expected and what was given
    rng      as_generator: every random choice comes from a seeded np.random.Generator
    config   settings read from the environment (LENET_QUICK, ...), in one place
    files    atomic writes, numbered backups, no half-written or stale temporary files

May import: numpy and the standard library only (nothing else of lenet).
"""
