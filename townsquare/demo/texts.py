"""Hand-written names, topics and message templates for the demo community of Plotline."""

from __future__ import annotations

from dataclasses import dataclass

LIBRARY = "Plotline"
DOMAIN = "plotline.example"


@dataclass(frozen=True)
class Culture:
    """Where a member's name comes from, the language they may write in and their time zone."""

    key: str
    weight: float
    language: str  # the language of their native-language messages ("en": none)
    tz_hours: tuple[float, ...]
    cities: tuple[str, ...]
    # (native, romanised) pairs; a plain string is both.
    given: tuple[tuple[str, str], ...]
    family: tuple[tuple[str, str], ...]
    family_first: bool = False
    # Slavic family names agree with the given name: (masculine, feminine) endings.
    feminine_given: frozenset[str] = frozenset()
    writes_second_language: bool = False


def _same(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, name) for name in names)


CULTURES: tuple[Culture, ...] = (
    Culture(
        "en",
        28,
        "en",
        (-8, -7, -5, -5, 0, 0, 10),
        ("Seattle", "Austin", "Boston", "Toronto", "London", "Manchester", "Dublin", "Melbourne"),
        _same(
            "James",
            "Emily",
            "Michael",
            "Sarah",
            "David",
            "Olivia",
            "Daniel",
            "Hannah",
            "Chris",
            "Megan",
            "Ryan",
            "Zoë",
            "Liam",
            "Grace",
            "Noah",
            "Abigail",
            "Ethan",
            "Ruth",
            "Sam",
            "Claire",
        ),
        _same(
            "Smith",
            "Johnson",
            "Brown",
            "Taylor",
            "Walker",
            "O'Brien",
            "Murphy",
            "Clarke",
            "Hughes",
            "Bennett",
            "Campbell",
            "Foster",
            "Reid",
            "Wallace",
            "Doyle",
            "Fraser",
        ),
    ),
    Culture(
        "es",
        11,
        "es",
        (1, -6, -5, -3, -3),
        ("Madrid", "Barcelona", "Sevilla", "Ciudad de México", "Bogotá", "Buenos Aires", "Lima"),
        (
            ("José", "jose"),
            ("María", "maria"),
            ("Lucía", "lucia"),
            ("Javier", "javier"),
            ("Sofía", "sofia"),
            ("Alejandro", "alejandro"),
            ("Camila", "camila"),
            ("Diego", "diego"),
            ("Valentina", "valentina"),
            ("Andrés", "andres"),
            ("Inés", "ines"),
            ("Martín", "martin"),
            ("Paula", "paula"),
            ("Raúl", "raul"),
        ),
        (
            ("García", "garcia"),
            ("Fernández", "fernandez"),
            ("López", "lopez"),
            ("Martínez", "martinez"),
            ("Rodríguez", "rodriguez"),
            ("Sánchez", "sanchez"),
            ("Pérez", "perez"),
            ("Gómez", "gomez"),
            ("Muñoz", "munoz"),
            ("Díaz", "diaz"),
            ("Ortega", "ortega"),
            ("Castillo", "castillo"),
            ("Ibáñez", "ibanez"),
        ),
        writes_second_language=True,
    ),
    Culture(
        "fr",
        7,
        "fr",
        (1, 1, 1, -5),
        ("Paris", "Lyon", "Nantes", "Toulouse", "Bruxelles", "Montréal", "Genève"),
        (
            ("Camille", "camille"),
            ("Léa", "lea"),
            ("Louis", "louis"),
            ("Hugo", "hugo"),
            ("Chloé", "chloe"),
            ("Théo", "theo"),
            ("Manon", "manon"),
            ("Mathieu", "mathieu"),
            ("Élodie", "elodie"),
            ("Antoine", "antoine"),
            ("Inès", "ines"),
            ("Gaëlle", "gaelle"),
        ),
        (
            ("Martin", "martin"),
            ("Bernard", "bernard"),
            ("Dubois", "dubois"),
            ("Lefèvre", "lefevre"),
            ("Moreau", "moreau"),
            ("Girard", "girard"),
            ("Rousseau", "rousseau"),
            ("Fontaine", "fontaine"),
            ("Lambert", "lambert"),
            ("Mercier", "mercier"),
            ("Bérenger", "berenger"),
        ),
        writes_second_language=True,
    ),
    Culture(
        "de",
        8,
        "de",
        (1, 1, 1),
        ("Berlin", "München", "Hamburg", "Köln", "Leipzig", "Wien", "Zürich"),
        (
            ("Lukas", "lukas"),
            ("Jonas", "jonas"),
            ("Leonie", "leonie"),
            ("Sophie", "sophie"),
            ("Jürgen", "juergen"),
            ("Anna", "anna"),
            ("Maximilian", "max"),
            ("Lena", "lena"),
            ("Felix", "felix"),
            ("Katharina", "katharina"),
            ("Björn", "bjoern"),
            ("Jörg", "joerg"),
        ),
        (
            ("Müller", "mueller"),
            ("Schmidt", "schmidt"),
            ("Schneider", "schneider"),
            ("Fischer", "fischer"),
            ("Weber", "weber"),
            ("Wagner", "wagner"),
            ("Becker", "becker"),
            ("Schäfer", "schaefer"),
            ("Hoffmann", "hoffmann"),
            ("Krüger", "krueger"),
            ("Groß", "gross"),
            ("Vogel", "vogel"),
        ),
        writes_second_language=True,
    ),
    Culture(
        "pt",
        8,
        "pt",
        (-3, -3, -3, 0),
        ("São Paulo", "Rio de Janeiro", "Belo Horizonte", "Recife", "Porto Alegre", "Lisboa"),
        (
            ("João", "joao"),
            ("Ana", "ana"),
            ("Pedro", "pedro"),
            ("Beatriz", "beatriz"),
            ("Lucas", "lucas"),
            ("Mariana", "mariana"),
            ("Gabriel", "gabriel"),
            ("Larissa", "larissa"),
            ("Thiago", "thiago"),
            ("Fernanda", "fernanda"),
            ("Conceição", "conceicao"),
            ("Vinícius", "vinicius"),
        ),
        (
            ("Silva", "silva"),
            ("Santos", "santos"),
            ("Oliveira", "oliveira"),
            ("Souza", "souza"),
            ("Pereira", "pereira"),
            ("Costa", "costa"),
            ("Rodrigues", "rodrigues"),
            ("Almeida", "almeida"),
            ("Gonçalves", "goncalves"),
            ("Araújo", "araujo"),
            ("Magalhães", "magalhaes"),
        ),
        writes_second_language=True,
    ),
    Culture(
        "ja",
        5,
        "ja",
        (9,),
        ("東京", "大阪", "京都", "福岡", "札幌"),
        (
            ("健", "ken"),
            ("花子", "hanako"),
            ("翔太", "shota"),
            ("陽菜", "hina"),
            ("大輔", "daisuke"),
            ("美咲", "misaki"),
            ("拓也", "takuya"),
            ("由美", "yumi"),
            ("蓮", "ren"),
            ("結衣", "yui"),
        ),
        (
            ("佐藤", "sato"),
            ("鈴木", "suzuki"),
            ("高橋", "takahashi"),
            ("田中", "tanaka"),
            ("渡辺", "watanabe"),
            ("伊藤", "ito"),
            ("山本", "yamamoto"),
            ("中村", "nakamura"),
        ),
        family_first=True,
        writes_second_language=True,
    ),
    Culture(
        "ru",
        5,
        "ru",
        (3, 3, 3, 7),
        ("Москва", "Санкт-Петербург", "Казань", "Новосибирск", "Екатеринбург"),
        (
            ("Анна", "anna"),
            ("Дмитрий", "dmitry"),
            ("Мария", "maria"),
            ("Алексей", "alexey"),
            ("Екатерина", "ekaterina"),
            ("Сергей", "sergey"),
            ("Ольга", "olga"),
            ("Иван", "ivan"),
            ("Наталья", "natalya"),
            ("Михаил", "mikhail"),
        ),
        (
            ("Смирнов", "smirnov"),
            ("Иванов", "ivanov"),
            ("Кузнецов", "kuznetsov"),
            ("Попов", "popov"),
            ("Соколов", "sokolov"),
            ("Лебедев", "lebedev"),
            ("Волков", "volkov"),
            ("Морозов", "morozov"),
        ),
        feminine_given=frozenset({"Анна", "Мария", "Екатерина", "Ольга", "Наталья"}),
        writes_second_language=True,
    ),
    Culture(
        "pl",
        4,
        "en",
        (1,),
        ("Warszawa", "Kraków", "Wrocław", "Gdańsk", "Poznań"),
        (
            ("Łukasz", "lukasz"),
            ("Agnieszka", "agnieszka"),
            ("Paweł", "pawel"),
            ("Małgorzata", "malgorzata"),
            ("Krzysztof", "krzysztof"),
            ("Zofia", "zofia"),
            ("Tomasz", "tomasz"),
            ("Joanna", "joanna"),
        ),
        (
            ("Nowak", "nowak"),
            ("Wójcik", "wojcik"),
            ("Kowalczyk", "kowalczyk"),
            ("Mazur", "mazur"),
            ("Krawczyk", "krawczyk"),
            ("Zając", "zajac"),
            ("Wróbel", "wrobel"),
            ("Król", "krol"),
        ),
        writes_second_language=True,
    ),
    Culture(
        "in",
        8,
        "en",
        (5.5,),
        ("Bengaluru", "Pune", "Chennai", "Hyderabad", "Kolkata", "Delhi"),
        _same(
            "Priya",
            "Arjun",
            "Ananya",
            "Rahul",
            "Deepika",
            "Vikram",
            "Sneha",
            "Aditya",
            "Kavya",
            "Rohan",
        ),
        _same("Sharma", "Iyer", "Reddy", "Gupta", "Nair", "Banerjee", "Kulkarni", "Menon"),
    ),
    Culture(
        "zh",
        3,
        "en",
        (8,),
        ("Shanghai", "Taipei", "Shenzhen", "Singapore", "Hangzhou"),
        (
            ("伟", "wei"),
            ("静", "jing"),
            ("磊", "lei"),
            ("敏", "min"),
            ("浩", "hao"),
            ("婷", "ting"),
        ),
        (
            ("张", "zhang"),
            ("王", "wang"),
            ("李", "li"),
            ("刘", "liu"),
            ("陈", "chen"),
            ("杨", "yang"),
        ),
        family_first=True,
        writes_second_language=True,
    ),
    Culture(
        "ng",
        3,
        "en",
        (1,),
        ("Lagos", "Abuja", "Ibadan", "Enugu", "Nairobi", "Accra"),
        _same("Chiamaka", "Oluwaseun", "Ngozi", "Emeka", "Adaeze", "Tunde", "Ifeoma", "Kelechi"),
        _same("Okafor", "Adeyemi", "Eze", "Balogun", "Nwosu", "Okonkwo", "Afolabi"),
    ),
    Culture(
        "tr",
        3,
        "en",
        (3,),
        ("İstanbul", "Ankara", "İzmir", "Bursa"),
        (
            ("Ayşe", "ayse"),
            ("Mehmet", "mehmet"),
            ("Elif", "elif"),
            ("Emre", "emre"),
            ("Zeynep", "zeynep"),
            ("Burak", "burak"),
        ),
        (
            ("Yılmaz", "yilmaz"),
            ("Kaya", "kaya"),
            ("Demir", "demir"),
            ("Şahin", "sahin"),
            ("Çelik", "celik"),
            ("Öztürk", "ozturk"),
        ),
        writes_second_language=True,
    ),
    Culture(
        "nordic",
        2,
        "en",
        (1, 1, 2),
        ("Stockholm", "København", "Oslo", "Helsinki", "Göteborg"),
        (
            ("Åsa", "asa"),
            ("Søren", "soren"),
            ("Ingrid", "ingrid"),
            ("Mikael", "mikael"),
            ("Sigrid", "sigrid"),
            ("Björn", "bjorn"),
        ),
        (
            ("Lindqvist", "lindqvist"),
            ("Kjær", "kjaer"),
            ("Håkansson", "hakansson"),
            ("Nilsen", "nilsen"),
            ("Berg", "berg"),
            ("Virtanen", "virtanen"),
        ),
    ),
    Culture(
        "ar",
        3,
        "en",
        (2, 1, 3),
        ("Cairo", "Casablanca", "Amman", "Beirut", "Tunis", "Dubai"),
        _same("Youssef", "Fatima", "Omar", "Layla", "Karim", "Nour", "Samir", "Rania"),
        _same("Haddad", "Mansour", "Khalil", "Benali", "Saleh", "Nasser", "Azzam"),
        writes_second_language=True,
    ),
)

EMAIL_DOMAINS = (
    "mail.example",
    "example.com",
    "example.org",
    "example.net",
    "posteo.example",
    "uni-data.example",
    "newsroom.example",
    "labs.example",
    "inbox.example",
)

# The team behind Plotline: (display name, handle, title).
STAFF = (
    ("Maya Okafor", "maya", "Community manager"),
    ("Tomás Ribeiro", "tomas", "Maintainer"),
    ("Hannah Weiss", "hannah", "Developer advocate"),
    ("Kenji Mori", "kenji", "Core developer"),
    ("Priya Raman", "priya.r", "Documentation lead"),
    ("Olu Bankole", "olu", "Release manager"),
)

# Releases: (days after the window opens, version, highlights). The big 3.0 is a busy day.
RELEASES = (
    (38, "2.5.0", "faceted legends, a faster SVG renderer and 14 bug fixes"),
    (121, "2.6.0", "WebGL scatter plots, locale-aware number formats"),
    (209, "3.0.0", "the new layout engine, React bindings and accessible charts by default"),
    (226, "3.0.1", "fixes for log axes and the JupyterLab widget"),
    (297, "3.1.0", "animated transitions, dark theme improvements and the geo extras"),
    (352, "3.1.1", "a fix for PNG export in headless mode"),
)
FIRST_VERSION = "2.4.2"


@dataclass(frozen=True)
class Topic:
    tag: str
    goal: str  # "How do I {goal}?"
    code: str
    error: str  # program output, the same in every language
    problem: str  # an English sentence, lower case
    fix: str


TOPICS: tuple[Topic, ...] = (
    Topic(
        "legend",
        "move the legend below the chart",
        'chart.legend(position="bottom")',
        "UserWarning: legend has more than 20 entries and will be truncated",
        "the legend overlaps the plot area",
        'chart.legend(position="bottom", offset=12, columns=3)',
    ),
    Topic(
        "tooltips",
        "show my own fields in the tooltip",
        'pl.tooltip(fields=["country", "gdp"])',
        "TypeError: Cannot read properties of undefined (reading 'format')",
        "the tooltip shows undefined for missing values",
        'pl.tooltip(fields=["country", "gdp"], missing="n/a")',
    ),
    Topic(
        "color-scales",
        "use a diverging color scale centred on zero",
        'pl.scale_color(scheme="RdBu", domain=[-1, 1])',
        "ValueError: scale domain must be finite, got [nan, 100]",
        "every point is drawn in the same grey",
        'pl.scale_color(scheme="RdBu", domain_mid=0, nulls="drop")',
    ),
    Topic(
        "log-axes",
        "put the y axis on a log scale",
        'chart.y_axis(type="log")',
        "ValueError: log scale requires strictly positive values",
        "rows with zeros vanish from the chart",
        'chart.y_axis(type="symlog", constant=1)',
    ),
    Topic(
        "time-series",
        "plot a time series with irregular timestamps",
        'pl.line(df, x="timestamp", y="value")',
        "TypeError: Object of type Timestamp is not JSON serializable",
        "the dates are shifted by one hour after the clocks change",
        'pl.line(df, x="timestamp", y="value", x_type="temporal", tz="UTC")',
    ),
    Topic(
        "maps",
        "draw a choropleth from my own GeoJSON",
        'pl.choropleth(geo, color="population")',
        "GeometryError: polygon ring is not closed",
        "the map renders as an empty frame",
        'pl.choropleth(geo.make_valid(), color="population", projection="equal-earth")',
    ),
    Topic(
        "facets",
        "share the y axis across facets",
        'pl.facet(chart, col="region", wrap=4)',
        "KeyError: 'region'",
        "each facet gets its own y axis",
        'pl.facet(chart, col="region", wrap=4, shared_y=True)',
    ),
    Topic(
        "animation",
        "animate a scatter plot over the years",
        'chart.animate(frame="year", duration=500)',
        "RangeError: Maximum call stack size exceeded",
        "the animation stutters with more than ten thousand points",
        'chart.animate(frame="year", duration=500, easing="linear", renderer="webgl")',
    ),
    Topic(
        "export",
        "export a chart to SVG from a script",
        'chart.save("figure.svg")',
        "RuntimeError: no headless browser found for static export",
        "the exported PNG is blank on the build server",
        'pip install "plotline[export]" && chart.save("figure.png", scale=2)',
    ),
    Topic(
        "react",
        "use Plotline inside a React component",
        "<PlotlineChart spec={spec} />",
        "Warning: Maximum update depth exceeded",
        "the chart re-renders on every keystroke",
        "const spec = useMemo(() => makeSpec(data), [data])",
    ),
    Topic(
        "jupyter",
        "display charts in JupyterLab",
        'pl.show(chart, renderer="notebook")',
        "ModuleNotFoundError: No module named 'plotline.widgets'",
        "nothing is displayed in JupyterLab 4",
        'pip install "plotline[jupyter]" and pl.show(chart, renderer="jupyterlab")',
    ),
    Topic(
        "accessibility",
        "add a text description to a chart for screen readers",
        'chart.describe(alt="Monthly sales by region")',
        "axe: svg elements with an img role must have an alternative text",
        "screen readers read out every tick label",
        'chart.describe(alt="Monthly sales by region", ticks="summary")',
    ),
    Topic(
        "performance",
        "plot half a million points without freezing the browser",
        'pl.scatter(df, x="x", y="y")',
        "WebGL: CONTEXT_LOST_WEBGL: loseContext: context lost",
        "the browser tab freezes with large data",
        'pl.scatter(df, x="x", y="y", renderer="webgl", downsample="lttb")',
    ),
    Topic(
        "themes",
        "make a dark theme with visible gridlines",
        'pl.theme("dark")',
        "KeyError: 'grid_color'",
        "the gridlines disappear in the dark theme",
        'pl.theme("dark", grid_color="#3a3f4b")',
    ),
    Topic(
        "installation",
        "install the geo extras on an Apple Silicon Mac",
        'pip install "plotline[geo]"',
        "ERROR: Failed building wheel for plotline-geo",
        "the build fails while compiling the geo extras",
        'pip install --only-binary=:all: "plotline[geo]>=3.1"',
    ),
    Topic(
        "pandas",
        "plot a grouped DataFrame directly",
        'pl.bar(df.groupby("month").sum(), x="month", y="sales")',
        "KeyError: 'month'",
        "the grouped column disappears from the chart",
        'pl.bar(df.groupby("month", as_index=False).sum(), x="month", y="sales")',
    ),
)

CHARTS = (
    "bar chart",
    "scatter plot",
    "heatmap",
    "choropleth map",
    "streamgraph",
    "violin plot",
    "treemap",
    "Sankey diagram",
    "ridgeline plot",
    "slope chart",
)
DATASETS = (
    "bike-share trips in my city",
    "30 years of rainfall",
    "our company's open data",
    "the national election results",
    "air quality sensors",
    "the city's tree census",
    "global CO2 emissions",
    "my running logs",
    "public library loans",
    "ferry timetables",
)
USECASES = (
    "climate dashboards",
    "newsroom graphics",
    "teaching statistics",
    "lab reports",
    "internal BI reports",
    "sports analytics",
    "open-data portals",
    "my PhD thesis",
)
FIELDS = {
    "en": (
        "public health",
        "data journalism",
        "climate research",
        "fintech",
        "urban planning",
        "sports analytics",
        "bioinformatics",
        "ed-tech",
    ),
    "es": (
        "salud pública",
        "periodismo de datos",
        "investigación climática",
        "finanzas",
        "urbanismo",
    ),
    "fr": (
        "la santé publique",
        "le journalisme de données",
        "la recherche sur le climat",
        "la finance",
        "l'urbanisme",
    ),
    "de": (
        "Gesundheitswesen",
        "Datenjournalismus",
        "Klimaforschung",
        "Finanzwesen",
        "Stadtplanung",
    ),
    "pt": (
        "saúde pública",
        "jornalismo de dados",
        "pesquisa climática",
        "finanças",
        "planejamento urbano",
    ),
    "ja": ("データ分析", "報道", "気候研究", "金融", "都市計画"),
    "ru": (
        "здравоохранения",
        "журналистики данных",
        "климатических исследований",
        "финансов",
        "урбанистики",
    ),
}
ROLES = (
    "data analyst",
    "data journalist",
    "PhD student",
    "frontend developer",
    "research engineer",
    "teacher",
    "GIS specialist",
    "product designer",
    "epidemiologist",
    "freelance developer",
)
CONFERENCES = ("OpenVisConf", "PyData Berlin", "useR!", "FOSDEM", "JupyterCon", "IEEE VIS")
TIPS = (
    "hold `Shift` while zooming to zoom only the x axis",
    'pass `renderer="webgl"` for scatter plots with more than 50k points',
    'set `pl.config(locale="de")` to get German number formats',
    "call `chart.save()` with `scale=3` for print-quality PNGs",
    "set a default theme in `~/.plotline.toml` instead of every script",
    "use `pl.palette.check_colorblind(scheme)` before publishing",
    "`chart.to_dict()` gives you the spec, handy for diffing two charts",
    "`pl.inspect(chart)` shows why a mark is not rendered",
)
SLUGS = (
    "color-palettes-that-work",
    "small-multiples",
    "maps-without-lies",
    "annotating-charts",
    "dataviz-accessibility",
    "choosing-scales",
    "timeseries-pitfalls",
    "dashboard-design",
)
# Throwaway accounts that join, post a promotion in #general and are deactivated: display name,
# handle, their one message. What every open community's moderators see.
SPAMMERS = (
    (
        "Easy Money Tips",
        "easy.money.tips",
        "Make $500 a day from home!!! Click here http://bit.ly/2xQ9fast and start earning today",
    ),
    (
        "Gift Card Hub",
        "giftcard.hub",
        "Check out my channel and subscribe for free gift cards http://youtube.com/c/freegiftz",
    ),
    (
        "DJ Nova",
        "dj.nova.official",
        "Hey guys I made a new music video, please watch and subscribe http://youtu.be/xq81Lp",
    ),
    (
        "Crypto King",
        "crypto.king99",
        "FREE crypto giveaway, send 0.1 BTC and get 1 BTC back! DM me now",
    ),
)
# Replies in #help that went too far: the toxicity model flags the first two; the third is
# for the watched words (docs/care.md, moderation).
HEATED = (
    "This is the dumbest library I have ever used, whoever wrote it is an idiot.",
    "Shut up, nobody asked for your garbage opinion.",
    "Are you stupid? I already told you this three times, read the damn docs.",
)
EMOJI_THANKS = ("pray", "raised_hands", "white_check_mark", "+1", "heart")
EMOJI_SHOW = ("tada", "heart_eyes", "fire", "clap", "star-struck", "heart", "100")
EMOJI_CHAT = ("+1", "joy", "eyes", "smile", "wave", "sunny", "coffee")
EMOJI_RELEASE = ("tada", "rocket", "partying_face", "heart", "raised_hands")

# Message templates. {mention} is the person spoken to, the other slots come from the topic,
# the author or the vocabulary above.
EN: dict[str, tuple[str, ...]] = {
    "question": (
        "Hi all! How do I {goal}? I tried `{code}` but {problem}.",
        "Quick question: is there a way to {goal} in {version}?",
        "Hey, I'm getting `{error}` when I call `{code}`. Any idea what I'm doing wrong?",
        "Has anyone managed to {goal}? The docs mention {tag} but I can't make it work.",
        "Newbie question, sorry: how do I {goal}?",
        "I've been stuck on this for two hours. `{code}` gives me:\n```{error}```\n"
        "What am I missing?",
        "Is it possible to {goal} without writing a custom renderer? {problem_cap} "
        "and I'd rather not fork the library.",
        "Morning! Small one: {problem} when I run `{code}` on {version}. Expected?",
    ),
    "release_question": (
        "After upgrading to {version}, {problem}. Did something change?",
        "Is anyone else seeing `{error}` since {version}? It worked fine yesterday.",
        "{version} broke my {tag} code: `{code}` now raises `{error}`. Is there a migration note?",
    ),
    "answer": (
        "You can pass `{fix}`, that should do it.",
        "This is a known issue in {version}, the workaround is `{fix}` until the next patch.",
        "Try `{fix}`. The docs page on {tag} has an example near the bottom.",
        "I had the same problem last week, `{fix}` fixed it for me.",
        "My guess is your data has missing values. `{fix}` usually helps.",
        "That changed in 3.0: `{fix}` is the new way, the old argument was removed.",
        "Short answer: `{fix}`. Long answer: the default changed because of {tag} "
        "performance, there is a thread about it on the mailing list.",
    ),
    "clarify": (
        "Can you share a minimal example? Hard to tell without the data.",
        "Which version are you on? `pl.__version__` will tell you.",
        "Could you paste the full traceback?",
        "Does it happen with the example dataset too, or only with yours?",
    ),
    "followup": (
        "Hmm, I tried `{fix}` but I still get the same error 😕",
        "Which version was that added in?",
        "Oh interesting, let me try that.",
        "That works for the small example but not with my real data, the {tag} is still off.",
    ),
    "details": (
        "Here is a smaller example: `{code}`. Same result.",
        "I'm on {version}, Python 3.11, Firefox.",
        "Sure, the full error is `{error}`.",
        "It happens with the example dataset too.",
    ),
    "thanks": (
        "Thanks {mention}, that fixed it!",
        "That worked, thank you so much {mention} 🙏",
        "Perfect, thanks! You saved my afternoon.",
        "Thank you {mention}! I owe you a coffee ☕",
        "Brilliant, works now. Thanks for the quick answer!",
        "Thanks a lot {mention}, I would never have found that in the docs.",
    ),
    "frustrated": (
        "This is the third time the build breaks this week, I'm losing my mind",
        "Honestly I've spent the whole day on this and nothing works. Starting to regret "
        "choosing Plotline for this project.",
        "Still no answer on this? I asked two days ago and my deadline is tomorrow.",
        "Why does every minor release break my charts? {problem_cap} again.",
        "Sorry for the rant but the docs for {tag} are really confusing, I've read them five "
        "times.",
        "I give up on {tag} for today. Nothing makes sense.",
    ),
    "bump": (
        "Anyone? Still stuck on this 😞",
        "Bumping this, sorry, I really need to ship this week.",
        "Still no answer on this? My deadline is tomorrow.",
    ),
    "show": (
        "Just shipped our election dashboard built with Plotline! All interactive 🎉",
        "Made this {chart} of {dataset} for my thesis, feedback welcome",
        "We used Plotline for the annual report at work, my boss loved it 😄",
        "I gave a talk about {tag} at {conference} yesterday, slides: "
        "https://slides.example.com/{slug}",
        "After three weekends, my {chart} of {dataset} is finally done!",
        "My first PR to Plotline got merged today!! 🥳",
        "Wrote a blog post on {tag} with Plotline: https://blog.example.org/{slug}",
    ),
    "compliment": (
        "This is gorgeous! How did you do the {tag}?",
        "Wow, love the colours 😍",
        "Congrats!! 🎉",
        "So cool. Would you mind sharing the code?",
        "Well deserved, congrats!",
        "Bookmarked. The annotations are really well done.",
    ),
    "intro": (
        "Hi everyone! I'm {first}, a {role} from {city}. I use Plotline for {usecase}. "
        "Happy to be here 👋",
        "Hello! {first} here, {role} in {city}. Mostly lurking for now, but I'd love to "
        "learn more about {tag}.",
        "Hey all 👋 I just started using Plotline at work for {usecase}. Looking forward to "
        "learning from you.",
        "Hi! I'm {first} from {city}. I teach a data-visualisation course and we are switching "
        "to Plotline this term.",
    ),
    "welcome": (
        "Welcome {mention}! 👋 Great to have you here. If you get stuck, #help is the place.",
        "Welcome aboard {mention}! Please share what you build in #show-and-tell.",
        "Hi {mention}, welcome! Our office hours are every Thursday if you want to say hi.",
        "So glad you found us {mention}! Let me know if there is anything I can help with.",
    ),
    "chatter": (
        "Anyone going to {conference} this year?",
        "Good morning from {city} ☀️",
        "Is it just me or is the docs site slow today?",
        "TIL you can {tip}. Mind blown.",
        "Found this great article on colour palettes: https://blog.example.org/{slug}",
        "Friday! What's everyone working on this weekend?",
        "Pro tip: {tip}.",
        "Does anyone have a good dataset about {dataset} for a workshop?",
        "Shoutout to {mention} for the help yesterday, really appreciated.",
    ),
    "chat_reply": (
        "Same here!",
        "Ha, I was just about to ask the same thing.",
        "Good point.",
        "I'll be there, let's meet up!",
        "Thanks for sharing, very useful.",
        "Works fine for me, maybe your cache?",
        "+1 to this",
    ),
    "event": (
        "📅 Office hours this Thursday at 16:00 UTC: bring your charts and your questions!",
        "Our next community call is on {date}: the roadmap for {version}. Who's in?",
        "The {city} meetup is back on {date}! RSVP in the thread 🧵",
        "Docs sprint on {date}: we pair newcomers with maintainers. No experience needed.",
        "Live stream on {date}: building a {chart} from scratch with {first}.",
    ),
    "event_reply": (
        "I'll be there!",
        "Count me in 🙌",
        "Will it be recorded? The time is 3am for me 😅",
        "Can't make it this time, next one for sure.",
        "Can I bring a friend who is new to Plotline?",
    ),
    "milestone": (
        "We just passed {stars} stars on GitHub! Thank you all 💛",
        "This community is now {members} members strong. Thank you for making it so friendly.",
        "Last month you answered {answers} questions in #help. You are amazing 🙏",
    ),
    "release": (
        "🚀 {library} {version} is out! Highlights: {highlights}. "
        "Changelog: https://{domain}/changelog#{version}",
    ),
    "ci_ok": (
        "✅ Nightly build passed on main ({tests} tests, {minutes} min).",
        "✅ Docs deployed: https://{domain}/docs/latest",
    ),
    "ci_fail": (
        "❌ Nightly build failed on main: `{error}` in test_{tag}.py",
        "❌ Wheel build failed for macOS arm64, see the CI logs.",
    ),
}

# Simple, slightly awkward English from members writing in a second language.
SECOND: dict[str, tuple[str, ...]] = {
    "question": (
        "Hello, I have problem with {tag}. When I make `{code}` it give me error `{error}`. "
        "Somebody can help me please?",
        "Sorry for my english. I want to {goal} but is not working, what I am doing wrong?",
        "Hi all, please how I can {goal}? I search in documentation but not find.",
        "Is possible to {goal}? I try many times and always {problem}.",
        "Good morning, I am new with Plotline. How to {goal}? Thank you in advance.",
    ),
    "thanks": (
        "Thank you very much for the help {mention}, now is working!!",
        "Ok I understand now, thank you. Is very useful.",
        "Many thanks {mention}, you are very kind 🙂",
        "It works!! Thank you so much, I was trying since yesterday.",
    ),
    "frustrated": (
        "I am very frustrated, since three days the export not work and I don't know why.",
        "Nobody answer my question... I need this for my work, please.",
        "Again the same error after update. I don't understand what I must change.",
    ),
    "intro": (
        "Hello everybody, I am {first} from {city}, I work with data in {field}. My english "
        "is not so good but I try 🙂",
        "Hi, I am {first}. I am student in {city} and I use Plotline for my thesis. Nice to "
        "meet you all!",
    ),
    "details": (
        "I have version {version}, the error is `{error}`.",
        "Yes, also with the example data is same.",
    ),
    "followup": (
        "I try this but still same error, maybe I make something wrong?",
        "Sorry, which file I must change?",
        "I have version {version}, is this the problem?",
    ),
    "show": (
        "I make my first dashboard with Plotline, is for my city {city}. What you think?",
        "Finally is finished my {chart}! Thanks to everybody who help me here 🎉",
    ),
    "chatter": (
        "Good morning from {city}! Here is very hot today ☀️",
        "Somebody know a good tutorial for {tag}? For beginner please.",
    ),
    "answer": (
        "I have same problem before, you must use `{fix}`, then is ok.",
        "Try with `{fix}`, for me it works.",
    ),
}

NATIVE: dict[str, dict[str, tuple[str, ...]]] = {
    "es": {
        "question": (
            "Hola a todos, ¿alguien sabe cómo hacer que `{code}` funcione con fechas? Me sale "
            "`{error}` y no entiendo por qué.",
            "Buenas, tengo un problema con {tag}: cuando ejecuto `{code}` obtengo `{error}`. "
            "¿Alguna idea?",
            "¿Hay alguna forma de configurar {tag} desde Python? Llevo toda la tarde buscando "
            "en la documentación.",
            "Perdón por escribir en español. Actualicé a la versión {version} y ahora mis "
            "gráficos salen en blanco. ¿A alguien más le pasa?",
        ),
        "answer": (
            "Prueba con `{fix}`, a mí me funcionó.",
            "Eso es un bug conocido de la {version}; mientras tanto usa `{fix}`.",
        ),
        "thanks": (
            "¡Muchas gracias {mention}! Ya funciona perfectamente.",
            "Mil gracias, me salvaste el día 🙏",
            "Gracias por la ayuda, era justo lo que necesitaba.",
        ),
        "frustrated": (
            "Estoy harto, es la tercera vez esta semana que se rompe la compilación.",
            "No entiendo nada de la documentación de {tag}, ¿de verdad es tan complicado?",
            "Nadie me responde y tengo que entregar esto mañana. Qué desesperación.",
        ),
        "show": (
            "¡Por fin terminé mi tablero con Plotline! Quedó precioso 🎉",
            "Hoy aceptaron mi primer pull request, ¡qué emoción!",
        ),
        "intro": (
            "¡Hola a todos! Soy {first} y trabajo en {field} en {city}. Uso Plotline para "
            "visualizar datos abiertos. ¡Un placer estar aquí!",
        ),
        "chatter": (
            "Buenos días desde {city} ☀️",
            "¿Alguien más va a {conference} este año? Podríamos organizar una cena.",
        ),
        "compliment": ("¡Qué maravilla! Me encantan los colores.", "¡Enhorabuena! 🎉"),
    },
    "fr": {
        "question": (
            "Bonjour à tous, quelqu'un sait comment utiliser `{code}` avec des dates ? "
            "J'obtiens `{error}` et je ne comprends pas pourquoi.",
            "Salut ! Depuis la mise à jour en {version}, mes graphiques ne s'affichent plus. "
            "Vous avez une idée ?",
            "Petite question : est-ce qu'on peut configurer {tag} directement en Python ? Je "
            "n'ai rien trouvé dans la doc.",
        ),
        "answer": (
            "Essaie avec `{fix}`, chez moi ça fonctionne.",
            "C'est un bug connu de la {version}, en attendant tu peux utiliser `{fix}`.",
        ),
        "thanks": (
            "Merci beaucoup {mention}, ça marche parfaitement !",
            "Super, merci pour ton aide 🙏",
            "Génial, c'était exactement ça. Merci !",
        ),
        "frustrated": (
            "J'en ai marre, c'est la troisième fois que le build casse cette semaine.",
            "Franchement, la doc sur {tag} est incompréhensible.",
        ),
        "show": (
            "Ma première contribution à Plotline vient d'être acceptée ! 🎉",
            "J'ai enfin fini ma carte des pistes cyclables de {city}, je suis très content du "
            "résultat.",
        ),
        "intro": (
            "Bonjour à tous ! Je m'appelle {first}, je travaille dans {field} à {city}. "
            "Au plaisir d'échanger avec vous !",
        ),
        "chatter": (
            "Bonjour de {city} ! Il pleut encore aujourd'hui 🌧️",
            "Quelqu'un va à {conference} cette année ?",
        ),
        "compliment": ("Magnifique, bravo !", "Félicitations 🎉"),
    },
    "de": {
        "question": (
            "Hallo zusammen, weiß jemand, wie man `{code}` mit Zeitreihen benutzt? Ich "
            "bekomme `{error}` und verstehe nicht warum.",
            "Seit dem Update auf {version} werden meine Diagramme nicht mehr angezeigt. Hat "
            "jemand eine Idee?",
            "Kurze Frage: Kann man {tag} direkt in Python konfigurieren? In der Doku habe ich "
            "nichts gefunden.",
        ),
        "answer": (
            "Probier mal `{fix}`, bei mir hat das geholfen.",
            "Das ist ein bekannter Fehler in {version}, bis zum nächsten Patch hilft `{fix}`.",
        ),
        "thanks": (
            "Vielen Dank {mention}, jetzt funktioniert es!",
            "Super, danke für die schnelle Hilfe 🙏",
            "Genau das war's. Danke!",
        ),
        "frustrated": (
            "Ich verzweifle langsam, der Build ist diese Woche schon zum dritten Mal kaputt.",
            "Ehrlich gesagt ist die Dokumentation zu {tag} total verwirrend.",
        ),
        "show": (
            "Mein erster Pull Request bei Plotline wurde gemergt! 🎉",
            "Endlich ist mein Dashboard fertig, ich bin richtig stolz darauf.",
        ),
        "intro": (
            "Hallo zusammen! Ich bin {first} und arbeite im Bereich {field} in {city}. Ich "
            "freue mich, hier zu sein!",
        ),
        "chatter": (
            "Guten Morgen aus {city}! ☕",
            "Fährt jemand dieses Jahr zur {conference}?",
        ),
        "compliment": ("Wunderschön, gut gemacht!", "Herzlichen Glückwunsch 🎉"),
    },
    "pt": {
        "question": (
            "Oi pessoal, alguém sabe como usar `{code}` com datas? Está dando `{error}` e não "
            "entendo o motivo.",
            "Depois que atualizei para a {version}, meus gráficos ficaram em branco. Alguém "
            "mais passou por isso?",
            "Pergunta rápida: dá para configurar {tag} direto pelo Python? Não achei nada na "
            "documentação.",
        ),
        "answer": (
            "Tenta com `{fix}`, comigo funcionou.",
            "Isso é um bug conhecido da {version}; enquanto isso, usa `{fix}`.",
        ),
        "thanks": (
            "Muito obrigado {mention}, funcionou perfeitamente!",
            "Valeu pela ajuda, salvou meu dia 🙏",
            "Era exatamente isso, obrigada!",
        ),
        "frustrated": (
            "Já é a terceira vez nesta semana que o build quebra, estou perdendo a paciência.",
            "Sinceramente, a documentação de {tag} está muito confusa.",
        ),
        "show": (
            "Meu primeiro pull request no Plotline foi aceito! 🎉",
            "Finalmente terminei o painel com os dados de {city}, ficou lindo!",
        ),
        "intro": (
            "Olá a todos! Sou {first} e trabalho com {field} em {city}. Que bom estar aqui!",
        ),
        "chatter": (
            "Bom dia de {city}! ☀️",
            "Alguém vai para a {conference} este ano?",
        ),
        "compliment": ("Que lindo, parabéns!", "Ficou incrível 😍"),
    },
    "ja": {
        "question": (
            "すみません、`{code}` を実行すると `{error}` というエラーが出ます。どなたか解決方法を"
            "ご存じですか？",
            "{version} にアップデートしてから、グラフが表示されなくなりました。同じ症状の方は"
            "いますか？",
            "{tag} を Python から設定する方法はありますか？ドキュメントを探しても見つかりません"
            "でした。",
        ),
        "answer": (
            "`{fix}` を試してみてください。私の環境ではこれで直りました。",
            "それは {version} の既知のバグです。次のパッチまでは `{fix}` で回避できます。",
        ),
        "thanks": (
            "{mention} さん、ありがとうございます！無事に動きました。",
            "助かりました、本当にありがとうございます🙏",
            "なるほど、そういうことだったんですね。ありがとうございます！",
        ),
        "frustrated": (
            "今週ビルドが壊れるのはもう三回目です…正直つらいです。",
            "{tag} のドキュメントが難しすぎて、何をすればいいのか分かりません。",
        ),
        "show": (
            "初めてのプルリクエストがマージされました！🎉",
            "やっとダッシュボードが完成しました。とても嬉しいです！",
        ),
        "intro": (
            "はじめまして、{first}です。{city}で{field}の仕事をしています。Plotline は使い始めた"
            "ばかりですが、よろしくお願いします！",
        ),
        "chatter": ("{city}からおはようございます☀️", "今年の {conference} に行く人はいますか？"),
        "compliment": ("素晴らしいですね！", "おめでとうございます🎉"),
    },
    "ru": {
        "question": (
            "Всем привет! Подскажите, пожалуйста, как заставить `{code}` работать с датами? "
            "Получаю `{error}` и не понимаю почему.",
            "После обновления до {version} графики перестали отображаться. У кого-нибудь было "
            "такое?",
            "Можно ли настроить {tag} прямо из Python? В документации об этом ничего не сказано.",
        ),
        "answer": (
            "Попробуйте `{fix}`, у меня это помогло.",
            "Это известная ошибка в {version}, пока можно обойти через `{fix}`.",
        ),
        "thanks": (
            "Спасибо большое, {mention}, всё заработало!",
            "Огромное спасибо, вы меня спасли 🙏",
            "Точно, в этом и была проблема. Спасибо!",
        ),
        "frustrated": (
            "Уже третий раз за неделю ломается сборка, я так больше не могу.",
            "Честно говоря, документация по {tag} очень запутанная.",
        ),
        "show": (
            "Мой первый пулл-реквест в Plotline приняли! 🎉",
            "Наконец-то дашборд готов, результат очень радует!",
        ),
        "intro": (
            "Всем привет! Меня зовут {first}, работаю в сфере {field}, город {city}. Очень "
            "приятно познакомиться!",
        ),
        "chatter": (
            "Доброе утро из города {city}!",
            "Кто-нибудь едет на {conference} в этом году?",
        ),
        "compliment": ("Очень красиво, поздравляю!", "Отличная работа 👏"),
    },
}

LANGUAGE_NAMES = {
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "pt": "Portuguese",
    "ja": "Japanese",
    "ru": "Russian",
}

QA_TITLES = (
    "How do I {goal}?",
    "`{error}` when calling {short_code}",
    "Why does {problem}?",
    "{tag_cap}: how to {goal}",
    "Is it possible to {goal} in Plotline {version}?",
)
QA_COMMENTS_ON_QUESTION = (
    "Can you post the full traceback?",
    "Which version are you on? `pl.__version__` will tell you.",
    "Please add a minimal reproducible example with a few rows of data.",
    "Possible duplicate of the {tag} FAQ entry.",
    "+1, same issue here on {version}.",
)
QA_COMMENTS_ON_ANSWER = (
    "Thanks, that worked!",
    "This should be the accepted answer.",
    "Note that this changed again in {version}.",
    "Works, but it is slow on big data frames. Any alternative?",
    "Thank you, I had been stuck on this for days.",
)
QA_NOT_ENGLISH = (
    "Welcome! This site is English-only, could you edit your question? There are people who "
    "speak {language} on our Slack too, feel free to ask there."
)
