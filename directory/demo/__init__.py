"""Realistic, deterministic demo practitioners around real towns (`flask seed-demo`).

- `data`: the word lists and shares (countries, fees, names, credentials);
- `towns`: where practitioners live (towns by population, ZIP codes, addresses);
- `generator`: one generated practitioner's rows, drawn from one seeded random generator;
- `rows`: ids handed out before insert and batches written with executemany;
- `showcase`: the hand-made practitioners a demo points at;
- `seeder`: `seed_demo`, which puts them together.
"""

from directory.demo.seeder import has_practitioners, seed_demo
from directory.demo.showcase import SHOWCASE, seed_showcase
from directory.demo.towns import sample_towns

__all__ = ["SHOWCASE", "has_practitioners", "sample_towns", "seed_demo", "seed_showcase"]
