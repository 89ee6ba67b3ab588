"""Cities, numbers and names the tiny model is never trained on (issue 20).

``build_tiny_model.py`` refuses to train on any of them (and asserts it);
``measure_model.py`` and ``tests/local/test_engine_copying.py`` ask about them,
so a right answer can only come from copying the prompt. No dependencies: the
trainer imports this from the engine venv, the measurer from the project's.
"""

from __future__ import annotations

import random

# 100 real cities; none is in tiny_chat_data.CITIES.
CITIES = [
    "Kyoto", "Reykjavik", "Nairobi", "Hanoi", "Lagos", "Valencia", "Salzburg", "Turin",
    "Florence", "Venice", "Bologna", "Genoa", "Palermo", "Bordeaux", "Toulouse", "Nantes",
    "Lille", "Rennes", "Strasbourg", "Cologne", "Frankfurt", "Stuttgart", "Dresden", "Leipzig",
    "Bremen", "Antwerp", "Ghent", "Rotterdam", "Utrecht", "Malmo", "Gothenburg", "Aarhus",
    "Tampere", "Gdansk", "Wroclaw", "Poznan", "Brno", "Bratislava", "Ljubljana", "Zagreb",
    "Belgrade", "Sarajevo", "Skopje", "Tirana", "Thessaloniki", "Izmir", "Ankara", "Tbilisi",
    "Yerevan", "Baku", "Almaty", "Tashkent", "Lahore", "Kolkata", "Chennai", "Bangalore",
    "Colombo", "Kathmandu", "Yangon", "Phnom Penh", "Kuala Lumpur", "Surabaya", "Sapporo",
    "Nagoya", "Fukuoka", "Incheon", "Chengdu", "Nanjing", "Hangzhou", "Adelaide", "Brisbane",
    "Hobart", "Wellington", "Calgary", "Ottawa", "Winnipeg", "Halifax", "Detroit", "Memphis",
    "Nashville", "Orlando", "Pittsburgh", "Minneapolis", "Tucson", "Anchorage", "Honolulu",
    "Guadalajara", "Medellin", "Cusco", "La Paz", "Montevideo", "Recife", "Kampala", "Kigali",
    "Addis Ababa", "Windhoek", "Marrakesh", "Amman", "Beirut", "Muscat",
]  # fmt: skip

# Temperatures: the trainer uses TEMP_RANGE minus these (a seeded draw).
TEMP_RANGE = range(-30, 46)
TEMPS = sorted(random.Random(2020).sample(list(TEMP_RANGE), 25))

# Story heroes, for "Tell me a story about {name}."
HEROES = [
    "Olaf", "Priya", "Marisol", "Tobias", "Yuki", "Anouk", "Bruno", "Ingrid", "Kofi", "Lucia",
    "Matteo", "Nadia", "Oskar", "Rosa", "Stellan", "Tamsin", "Ulla", "Viktor", "Wanda", "Zeno",
]  # fmt: skip


def training_temps() -> list[int]:
    """The temperatures the trainer may use: TEMP_RANGE without the held-out ones."""
    held = set(TEMPS)
    return [t for t in TEMP_RANGE if t not in held]


assert len(CITIES) == len(set(CITIES)) == 100
