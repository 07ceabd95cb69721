"""The demo data's word lists and shares: countries, fees, names, practice words, credentials.

Plain data, so that a reader can change the mix without reading the seeder.
"""

# Share of the demo practitioners per country (percent).
COUNTRY_SHARE = {
    "US": 55,
    "CA": 7,
    "GB": 10,
    "IE": 2,
    "AU": 7,
    "NZ": 2,
    "DE": 7,
    "NL": 3,
    "CH": 2,
    "AT": 2,
    "BE": 1,
    "SE": 1,
    "NO": 1,
}
CURRENCY = {"US": "USD", "CA": "CAD", "GB": "GBP", "AU": "AUD", "NZ": "NZD", "CH": "CHF", "SE": "SEK", "NO": "NOK"}
FEES = {"USD": (80, 180), "CAD": (90, 170), "GBP": (45, 90), "AUD": (90, 160), "NZD": (80, 140), "EUR": (60, 120)}
FEES.update({"CHF": (100, 180), "SEK": (700, 1300), "NOK": (700, 1300)})
LOCAL_LANGUAGE = {"DE": "German", "AT": "German", "CH": "German", "NL": "Dutch", "BE": "Dutch", "SE": "Swedish"}
LOCAL_LANGUAGE["NO"] = "Norwegian"
PHONE_PREFIX = {"GB": "+44 20 7946 0", "IE": "+353 1 555 0", "AU": "+61 2 5550 0", "NZ": "+64 9 555 0"}
CA_PROVINCES = {"01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS", "08": "ON", "09": "PE"}
CA_PROVINCES.update({"10": "QC", "11": "SK", "12": "YT", "13": "NT", "14": "NU"})
AU_STATES = {"01": "ACT", "02": "NSW", "03": "NT", "04": "QLD", "05": "SA", "06": "TAS", "07": "VIC", "08": "WA"}

FIRST_NAMES = {
    "en": "Emma Olivia Ava Sophia Mia Amelia Harper Grace Chloe Lily Hannah Nora Zoe Leah Ruth Claire Maya Anna Sarah "
    "Laura Julia Megan Rachel Erin Kate Jessica Naomi Priya Aisha Mei Rosa Elena Noah Liam James Lucas Ethan Daniel "
    "Samuel David Michael Owen Henry Jack Thomas Andrew Ben Nathan Aaron Marcus Kevin Omar Diego Raj Ken Paul Simon",
    "de": "Anna Lena Lea Hannah Marie Sophie Katharina Julia Laura Sarah Miriam Eva Sabine Petra Claudia Monika Jonas Lukas "
    "Leon Felix Paul Maximilian Tobias Jan Stefan Thomas Michael Andreas Markus Florian Matthias Johannes",
    "nl": "Emma Sanne Lotte Fleur Anouk Femke Iris Eva Noor Lieke Daan Sem Bram Thijs Jesse Ruben Lars Niels Joost Bas",
    "sv": "Astrid Elsa Ingrid Maja Freja Linnea Sara Karin Erik Lars Nils Olof Anders Johan Magnus Henrik Sven Leif",
}
LAST_NAMES = {
    "en": "Smith Johnson Williams Brown Jones Miller Davis Garcia Rodriguez Wilson Martinez Anderson Taylor Thomas Moore "
    "Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill Green "
    "Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart Murphy "
    "Cook Morgan Bell Murray Kelly Ryan Walsh Byrne OBrien Patel Chen Nguyen Okafor Kowalski Rossi Cohen",
    "de": "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein Wolf Schröder "
    "Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Werner Krause Lehmann Huber Gruber Steiner",
    "nl": "de Jong Jansen de Vries van den Berg van Dijk Bakker Janssen Visser Smit Meijer de Boer Mulder de Groot "
    "Bos Vos Peters Hendriks van Leeuwen Dekker Brouwer",
    "sv": "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsen Hansen Johansen Pedersen Berg Lund Dahl",
}
NAME_POOL = {"DE": "de", "AT": "de", "CH": "de", "NL": "nl", "BE": "nl", "SE": "sv", "NO": "sv"}
PRACTICE_WORDS = ["Still Point", "Quiet Tide", "Open Hands", "Gentle Current", "Deep Rest", "Midline", "Tidewater"]
PRACTICE_KINDS = ["Craniosacral Therapy", "Bodywork", "Craniosacral Studio", "Wellness", "Integrative Bodywork"]
STREETS = ["Main", "Oak", "Maple", "Pine", "Cedar", "Elm", "Park", "Lake", "Hill", "Church", "Mill", "River", "Spring"]
STREET_KINDS = ["Street", "Avenue", "Road", "Lane", "Drive", "Way"]
SESSION_MINUTES = [45, 50, 60, 60, 60, 60, 75, 90]
LICENSES = ["LMT", "LMT", "LMT", "PT", "OT", "DC", "DO", "RN"]
# (body slug, credential, share percent) per group of countries; the rest hold no credential.
CREDENTIAL_MIX = {
    "NA": [("upledger", "CST-T", 35), ("upledger", "CST-D", 10), ("bcta-na", "RCST", 22)],
    "UK": [("csta-uk", "RCST", 55), ("upledger", "CST-T", 15), ("upledger", "CST-D", 3)],
    "OTHER": [("upledger", "CST-T", 40), ("upledger", "CST-D", 8), ("csta-uk", "RCST", 5)],
}
TRAININGS = {
    "CST-T": [
        ("CranioSacral Therapy 1 (CST1)", 24),
        ("CranioSacral Therapy 2 (CST2)", 24),
        ("SomatoEmotional Release 1", 24),
    ],
    "CST-D": [
        ("CranioSacral Therapy 1 (CST1)", 24),
        ("CranioSacral Therapy 2 (CST2)", 24),
        ("SomatoEmotional Release 1", 24),
        ("SomatoEmotional Release 2", 24),
        ("Advanced CranioSacral Therapy", 40),
    ],
    "bcta-na:RCST": [("Biodynamic Craniosacral Therapy foundation training", 700)],
    "csta-uk:RCST": [("Craniosacral therapy diploma (accredited school)", 600)],
    None: [("CranioSacral Therapy 1 (CST1)", 24)],
}
TRAINING_PROVIDER = {"CST-T": "Upledger Institute International", "CST-D": "Upledger Institute International"}
TRAINING_PROVIDER.update(
    {"bcta-na:RCST": "BCTA/NA approved school", "csta-uk:RCST": "CSTA accredited school", None: ""}
)


def split_names(words: str) -> list[str]:
    """Split a name list, keeping Dutch particles with their name ("de Jong")."""
    names, particle = [], ""
    for word in words.split():
        if word in ("de", "van", "den", "der"):
            particle += word + " "
            continue
        names.append(particle + word)
        particle = ""
    return [n.replace("OBrien", "O'Brien") for n in names]
