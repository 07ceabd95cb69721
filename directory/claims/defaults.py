"""The phrases screened by default, each with the explanation shown to the practitioner.

Drawn from the UK's CAP Code (rule 12: medicines, medical devices, health-related products and
beauty products; the ASA's rulings on craniosacral therapy) and the US FTC's Health Products
Compliance Guidance: no claims to cure or treat medical conditions, no guarantees or success
rates, no discouraging people from seeking or keeping medical care. Admins edit the live list
at /admin/claims; this list seeds it (migration 0008) and is the reference for the tests.
"""

CURE = (
    "Claims that CST cures a condition are not allowed: the evidence does not support them "
    "(CAP Code 12.1; FTC health claims guidance). Describe what a session involves instead."
)
GUARANTEE = "No result of a therapy can be guaranteed; describe what you offer, not an outcome."
RATE = "Success rates and percentages need robust published evidence; leave them out."
PROVEN = "CST is not proven to work for any condition; do not describe it as proven."
SERIOUS = (
    "Offering to treat a serious illness is not allowed: people with it need medical care. "
    "You may say you work alongside their medical team."
)
REPLACE = (
    "Nothing may suggest that people stop or put off medical care or medication; say instead "
    "that CST does not replace it and that they should talk to their doctor."
)

DEFAULT_PHRASES: tuple[tuple[str, str], ...] = (
    ("cure", CURE),
    ("curing", CURE),
    ("curative", CURE),
    ("heals", CURE),
    ("eliminates pain", CURE),
    ("permanent relief", CURE),
    ("guarantee", GUARANTEE),
    ("money back", GUARANTEE),
    ("100%", RATE),
    ("success rate", RATE),
    ("miracle", CURE),
    ("miraculous", CURE),
    ("clinically proven", PROVEN),
    ("scientifically proven", PROVEN),
    ("proven to", PROVEN),
    ("treats cancer", SERIOUS),
    ("treat cancer", SERIOUS),
    ("treats autism", SERIOUS),
    ("treats cerebral palsy", SERIOUS),
    ("treats multiple sclerosis", SERIOUS),
    ("treats diabetes", SERIOUS),
    ("reverses", CURE),
    ("no need for medication", REPLACE),
    ("stop taking medication", REPLACE),
    ("instead of medication", REPLACE),
    ("replaces medical care", REPLACE),
    ("instead of surgery", REPLACE),
    ("instead of seeing a doctor", REPLACE),
    ("no need to see a doctor", REPLACE),
)
