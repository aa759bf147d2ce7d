"""Hand-written requests for the built-in workload: everyday questions and trap families, English and Arabic.

A trap is a request that looks like an earlier one but deserves another answer. Each entry carries a
`meaning`: two requests with the same meaning (and the same model, system prompt and parameters)
deserve the same answer; the generator turns meanings into answer classes.
"""

from __future__ import annotations

# Arabic short vowels and marks, spelled out so a reviewer can check every vocalised word.
FATHA, DAMMA, KASRA, SUKUN, SHADDA = "\u064e", "\u064f", "\u0650", "\u0652", "\u0651"

# key, English, English paraphrase, Arabic, Arabic paraphrase.
QUESTIONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("reset-password", "How do I reset my password?", "What's the way to reset my password?",
     "كيف أعيد تعيين كلمة المرور؟", "ما طريقة إعادة تعيين كلمة السر؟"),
    ("water-benefits", "What are the benefits of drinking water?", "Why is drinking water good for you?",
     "ما فوائد شرب الماء؟", "لماذا يعد شرب الماء مفيداً للجسم؟"),
    ("api", "Explain what an API is.", "What is an API?",
     "اشرح ما هي واجهة برمجة التطبيقات.", "ما المقصود بواجهة برمجة التطبيقات؟"),
    ("green-tea", "How do I make a cup of green tea?", "What's the best way to brew green tea?",
     "كيف أحضّر كوباً من الشاي الأخضر؟", "ما طريقة تحضير الشاي الأخضر؟"),
    ("ram-storage", "What is the difference between RAM and storage?", "How is RAM different from disk storage?",
     "ما الفرق بين الذاكرة العشوائية ومساحة التخزين؟", "كيف تختلف ذاكرة الوصول العشوائي عن وحدة التخزين؟"),
    ("credit-score", "How can I improve my credit score?", "What are ways to raise my credit score?",
     "كيف أحسّن تصنيفي الائتماني؟", "ما طرق رفع درجة الائتمان الخاصة بي؟"),
    ("inflation", "What causes inflation?", "Why does inflation happen?",
     "ما أسباب التضخم؟", "لماذا يحدث التضخم؟"),
    ("center-div", "How do I center a div in CSS?", "What's the way to center a div with CSS?",
     "كيف أوسّط عنصر div باستخدام CSS؟", "ما طريقة توسيط div في CSS؟"),
    ("vaccines", "How do vaccines work?", "Can you explain how vaccines work?",
     "كيف تعمل اللقاحات؟", "اشرح لي طريقة عمل اللقاحات."),
    ("sleep-faster", "How can I fall asleep faster?", "What helps you fall asleep more quickly?",
     "كيف أنام بسرعة أكبر؟", "ما الذي يساعد على النوم بسرعة؟"),
    ("write-cv", "How do I write a good CV?", "What are the steps to writing a strong CV?",
     "كيف أكتب سيرة ذاتية جيدة؟", "ما خطوات كتابة سيرة ذاتية ناجحة؟"),
    ("cloud", "What is cloud computing?", "Explain cloud computing to me.",
     "ما هي الحوسبة السحابية؟", "اشرح لي مفهوم الحوسبة السحابية."),
    ("sky-blue", "Why is the sky blue?", "What makes the sky look blue?",
     "لماذا السماء زرقاء؟", "ما سبب اللون الأزرق للسماء؟"),
    ("headaches", "What causes headaches?", "Why do people get headaches?",
     "ما أسباب الصداع؟", "لماذا يصاب الإنسان بالصداع؟"),
    ("newton-first", "Explain Newton's first law.", "What is Newton's first law of motion?",
     "اشرح قانون نيوتن الأول.", "ما هو قانون نيوتن الأول للحركة؟"),
    ("recover-file", "How do I recover a deleted file?", "Is there a way to get back a file I deleted?",
     "كيف أستعيد ملفاً محذوفاً؟", "ما طريقة استرجاع ملف تم حذفه؟"),
    ("arabic-coffee", "How do I make Arabic coffee?", "What's the recipe for Arabic coffee?",
     "كيف أحضّر القهوة العربية؟", "ما طريقة عمل القهوة العربية؟"),
    ("bank-account", "How do I open a bank account?", "What are the steps to open a bank account?",
     "كيف أفتح حساباً بنكياً؟", "ما خطوات فتح حساب في البنك؟"),
    ("work-stress", "How do I deal with stress at work?", "What are good ways to handle work stress?",
     "كيف أتعامل مع ضغط العمل؟", "ما طرق التعامل مع الضغط في العمل؟"),
    ("renewable", "What is renewable energy?", "What does renewable energy mean?",
     "ما هي الطاقة المتجددة؟", "ماذا نعني بالطاقة المتجددة؟"),
    ("ai-ml", "What is the difference between AI and machine learning?", "How does machine learning differ from AI?",
     "ما الفرق بين الذكاء الاصطناعي وتعلّم الآلة؟", "كيف يختلف تعلّم الآلة عن الذكاء الاصطناعي؟"),
    ("vitamin-d", "What are the symptoms of vitamin D deficiency?", "What are the signs of low vitamin D?",
     "ما أعراض نقص فيتامين د؟", "ما العلامات التي تدل على نقص فيتامين د؟"),
    ("bmi", "How do I calculate my BMI?", "What's the formula for BMI?",
     "كيف أحسب مؤشر كتلة الجسم؟", "ما طريقة حساب مؤشر كتلة الجسم؟"),
    ("learn-english", "What is the fastest way to learn English?", "How can I learn English quickly?",
     "ما أسرع طريقة لتعلّم اللغة الإنجليزية؟", "كيف أتعلّم الإنجليزية بسرعة؟"),
)

# number_change: a template and the values it takes; changing the number changes the answer.
NUMBERS_EN: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("percent-of-240", "What is {n}% of 240?", (5, 10, 12, 15, 20, 25, 30, 40, 75)),
    ("percent-of-1200", "What is {n}% of 1200?", (3, 8, 15, 18, 35, 60)),
    ("miles-to-km", "Convert {n} miles to kilometres.", (3, 5, 10, 13, 26, 50, 100)),
    ("seconds-in-hours", "How many seconds are there in {n} hours?", (2, 3, 5, 8, 12, 24)),
    ("rome-itinerary", "Give me a {n}-day itinerary for Rome.", (2, 3, 4, 5, 7)),
    ("sleep-tips", "List {n} tips for better sleep.", (3, 5, 7, 10)),
    ("loan-payment", "What is the monthly payment on a ${n},000 loan at 6% interest over 5 years?",
     (10, 15, 20, 30, 50)),
    ("product-copy", "Write a {n}-word product description for a stainless steel water bottle.", (25, 50, 100, 150)),
    ("is-prime", "Is {n} a prime number?", (51, 53, 57, 59, 87, 89, 91, 97)),
    ("usd-to-sar", "How much is {n} US dollars in Saudi riyals at 3.75 riyals per dollar?", (40, 80, 150, 1200)),
)
NUMBERS_AR: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("percent-of-240", "كم يساوي {n}% من 240؟", (5, 10, 12, 15, 20, 25, 30, 40, 75)),
    ("miles-to-km", "حوّل {n} ميل إلى كيلومتر.", (3, 5, 10, 13, 26, 50, 100)),
    ("seconds-in-hours", "كم ثانية في {n} ساعات؟", (3, 4, 5, 6, 8, 10)),
    ("istanbul-itinerary", "اقترح برنامج رحلة لمدة {n} أيام في إسطنبول.", (3, 4, 5, 7)),
    ("sleep-tips", "اذكر {n} نصائح لنوم أفضل.", (3, 5, 7, 10)),
    ("is-prime", "هل العدد {n} عدد أولي؟", (51, 53, 57, 59, 87, 89, 91, 97)),
    ("usd-to-sar", "كم تساوي {n} دولار بالريال السعودي إذا كان الدولار يساوي 3.75 ريال؟", (40, 80, 150, 1200)),
)

# negation: (question, the same question negated).
NEGATIONS_EN: tuple[tuple[str, str], ...] = (
    ("Which medications are safe to take with ibuprofen?", "Which medications are not safe to take with ibuprofen?"),
    ("List the EU countries that use the euro.", "List the EU countries that do not use the euro."),
    ("Which programming languages have garbage collection?",
     "Which programming languages do not have garbage collection?"),
    ("Which planets in the solar system have rings?", "Which planets in the solar system do not have rings?"),
    ("Which vitamins are fat-soluble?", "Which vitamins are not fat-soluble?"),
    ("What foods can dogs eat?", "What foods can dogs not eat?"),
    ("Which HTTP methods are idempotent?", "Which HTTP methods are not idempotent?"),
    ("What should I include in a cover letter?", "What should I not include in a cover letter?"),
    ("Which houseplants are safe for cats?", "Which houseplants are not safe for cats?"),
    ("Write a SQL query that selects customers who have placed an order.",
     "Write a SQL query that selects customers who have never placed an order."),
    ("Which countries require a visa for Saudi citizens?", "Which countries do not require a visa for Saudi citizens?"),
    ("Which fruits are high in vitamin C?", "Which fruits are not high in vitamin C?"),
    ("Should I use a comma before 'and' in a list?", "When should I not use a comma before 'and' in a list?"),
    ("What are signs that a startup idea is good?", "What are signs that a startup idea is not good?"),
)
NEGATIONS_AR: tuple[tuple[str, str], ...] = (
    ("ما الأطعمة التي يمكن للكلاب أكلها؟", "ما الأطعمة التي لا يمكن للكلاب أكلها؟"),
    ("ما الدول الأوروبية التي تستخدم اليورو؟", "ما الدول الأوروبية التي لا تستخدم اليورو؟"),
    ("ما النباتات المنزلية الآمنة للقطط؟", "ما النباتات المنزلية غير الآمنة للقطط؟"),
    ("ما الكواكب التي لها حلقات؟", "ما الكواكب التي ليس لها حلقات؟"),
    ("ما الفيتامينات التي تذوب في الدهون؟", "ما الفيتامينات التي لا تذوب في الدهون؟"),
    ("ما الأدوية التي يمكن تناولها مع الإيبوبروفين؟", "ما الأدوية التي لا يمكن تناولها مع الإيبوبروفين؟"),
    ("ما الذي يجب أن أكتبه في خطاب التقديم؟", "ما الذي يجب ألا أكتبه في خطاب التقديم؟"),
    ("ما لغات البرمجة التي تدعم جمع البيانات المهملة تلقائياً؟",
     "ما لغات البرمجة التي لا تدعم جمع البيانات المهملة تلقائياً؟"),
    ("ما الأطعمة المسموحة لمرضى السكري؟", "ما الأطعمة غير المسموحة لمرضى السكري؟"),
    ("ما الدول التي تتطلب تأشيرة للمواطن السعودي؟", "ما الدول التي لا تتطلب تأشيرة للمواطن السعودي؟"),
)

# entity_swap: one template, several entities (English key, English name, Arabic name).
COUNTRIES: tuple[tuple[str, str, str], ...] = (
    ("france", "France", "فرنسا"), ("germany", "Germany", "ألمانيا"), ("japan", "Japan", "اليابان"),
    ("canada", "Canada", "كندا"), ("australia", "Australia", "أستراليا"), ("brazil", "Brazil", "البرازيل"),
    ("egypt", "Egypt", "مصر"), ("morocco", "Morocco", "المغرب"), ("turkey", "Turkey", "تركيا"),
    ("italy", "Italy", "إيطاليا"), ("spain", "Spain", "إسبانيا"), ("kenya", "Kenya", "كينيا"),
)
CITIES: tuple[tuple[str, str, str], ...] = (
    ("riyadh", "Riyadh", "الرياض"), ("jeddah", "Jeddah", "جدة"), ("cairo", "Cairo", "القاهرة"),
    ("dubai", "Dubai", "دبي"), ("amman", "Amman", "عمّان"), ("casablanca", "Casablanca", "الدار البيضاء"),
    ("istanbul", "Istanbul", "إسطنبول"), ("paris", "Paris", "باريس"), ("tokyo", "Tokyo", "طوكيو"),
    ("oslo", "Oslo", "أوسلو"),
)
PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("curie", "Marie Curie", "ماري كوري"), ("ibn-sina", "Ibn Sina", "ابن سينا"),
    ("lovelace", "Ada Lovelace", "آدا لوفليس"), ("turing", "Alan Turing", "آلان تورنغ"),
    ("ibn-khaldun", "Ibn Khaldun", "ابن خلدون"), ("khwarizmi", "al-Khwarizmi", "الخوارزمي"),
)
NOVELS: tuple[tuple[str, str, str], ...] = (
    ("season-migration", "Season of Migration to the North", "موسم الهجرة إلى الشمال"),
    ("palace-walk", "Palace Walk", "بين القصرين"),
    ("cities-of-salt", "Cities of Salt", "مدن الملح"),
    ("things-fall-apart", "Things Fall Apart", "الأشياء تتداعى"),
    ("solitude", "One Hundred Years of Solitude", "مئة عام من العزلة"),
)
# (template key, English template, Arabic template, entity list)
ENTITY_TEMPLATES = (
    ("capital", "What is the capital of {x}?", "ما هي عاصمة {x}؟", COUNTRIES),
    ("population", "What is the population of {x}?", "كم عدد سكان مدينة {x}؟", CITIES),
    ("short-bio", "Write a short biography of {x}.", "اكتب نبذة مختصرة عن {x}.", PEOPLE),
    ("novel-author", "Who wrote the novel {x}?", "من مؤلف رواية «{x}»؟", NOVELS),
)
# Swapping the two roles flips the answer: (key, English, Arabic) with {a} and {b}.
ROLE_SWAPS: tuple[tuple[str, str, str, tuple[tuple[str, str, str], tuple[str, str, str]]], ...] = (
    ("convert-currency", "Convert 100 {a} to {b}.", "حوّل 100 {a} إلى {b}.",
     (("usd", "US dollars", "دولار أمريكي"), ("eur", "euros", "يورو"))),
    ("convert-currency", "Convert 100 {a} to {b}.", "حوّل 100 {a} إلى {b}.",
     (("sar", "Saudi riyals", "ريال سعودي"), ("aed", "UAE dirhams", "درهم إماراتي"))),
    ("temperature-function", "Write a Python function that converts {a} to {b}.",
     "اكتب دالة بايثون تحوّل درجة الحرارة من {a} إلى {b}.",
     (("celsius", "Celsius", "الدرجة المئوية"), ("fahrenheit", "Fahrenheit", "فهرنهايت"))),
    ("taller-than", "Is {a} taller than {b}?", "هل {a} أطول من {b}؟",
     (("burj-khalifa", "the Burj Khalifa", "برج خليفة"), ("eiffel", "the Eiffel Tower", "برج إيفل"))),
    ("taller-than", "Is {a} taller than {b}?", "هل {a} أطول من {b}؟",
     (("kilimanjaro", "Mount Kilimanjaro", "جبل كليمنجارو"), ("mont-blanc", "Mont Blanc", "جبل مون بلان"))),
)

# language_change: the same request asking for another language.
TRANSLATE_TARGETS: tuple[tuple[str, str, str], ...] = (
    ("fr", "French", "الفرنسية"), ("es", "Spanish", "الإسبانية"), ("de", "German", "الألمانية"),
    ("tr", "Turkish", "التركية"), ("ur", "Urdu", "الأوردية"), ("id", "Indonesian", "الإندونيسية"),
)
TRANSLATE_EN = "Translate 'thank you very much' into {x}."
TRANSLATE_AR = "ترجم عبارة «شكراً جزيلاً» إلى {x}."
ANSWER_IN: tuple[tuple[str, str], ...] = (("en", "English"), ("ar", "Arabic"), ("fr", "French"))
ANSWER_IN_EN = "Answer in {x}: what are the symptoms of dehydration?"

# arabic_diacritics: the same letters, vocalised differently, are different words.
# (word key, [(vocalised word, English gloss)])
DIACRITIC_WORDS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("mlk", (("م" + FATHA + "ل" + KASRA + "ك", "king"), ("م" + FATHA + "ل" + FATHA + "ك", "angel"),
             ("م" + DAMMA + "ل" + SUKUN + "ك", "dominion"))),
    ("alm", (("ع" + FATHA + "ال" + KASRA + "م", "scholar"), ("ع" + FATHA + "ال" + FATHA + "م", "world"))),
    ("ilm", (("ع" + KASRA + "ل" + SUKUN + "م", "knowledge"), ("ع" + FATHA + "ل" + FATHA + "م", "flag"))),
    ("hb", (("ح" + DAMMA + "ب" + SHADDA, "love"), ("ح" + FATHA + "ب" + SHADDA, "grain"))),
    ("br", (("ب" + FATHA + "ر" + SHADDA, "land"), ("ب" + KASRA + "ر" + SHADDA, "righteousness"),
            ("ب" + DAMMA + "ر" + SHADDA, "wheat"))),
    ("qdm", (("ق" + FATHA + "د" + FATHA + "م", "foot"), ("ق" + KASRA + "د" + FATHA + "م", "antiquity"))),
    ("ktb", (("ك" + DAMMA + "ت" + DAMMA + "ب", "books"), ("ك" + FATHA + "ت" + FATHA + "ب" + FATHA, "he wrote"))),
    ("jnn", (("ج" + FATHA + "ن" + SHADDA + FATHA + "ة", "paradise"), ("ج" + KASRA + "ن" + SHADDA + FATHA + "ة", "jinn"),
             ("ج" + DAMMA + "ن" + SHADDA + FATHA + "ة", "shield"))),
    ("sfr", (("س" + FATHA + "ف" + FATHA + "ر", "travel"), ("س" + KASRA + "ف" + SUKUN + "ر", "scripture"))),
    ("shr", (("ش" + FATHA + "ع" + SUKUN + "ر", "hair"), ("ش" + KASRA + "ع" + SUKUN + "ر", "poetry"))),
)
DIACRITIC_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("meaning", "ما معنى كلمة «{w}»؟"),
    ("translate", "ترجم كلمة «{w}» إلى الإنجليزية."),
    ("sentence", "اكتب جملة مفيدة تستخدم فيها كلمة «{w}»."),
)

# case_change: only the case differs, and with it the answer.
CASE_PAIRS: tuple[tuple[str, str], ...] = (
    ("Tell me about Turkey.", "Tell me about turkey."),
    ("Give me three facts about Mercury.", "Give me three facts about mercury."),
    ("Define the word 'Polish'.", "Define the word 'polish'."),
    ("What does CO stand for in chemistry?", "What does Co stand for in chemistry?"),
    ("Write a case-sensitive regex that matches the word ERROR exactly.",
     "Write a case-sensitive regex that matches the word error exactly."),
    ("Write a Python one-liner that prints exactly: Hello World",
     "Write a Python one-liner that prints exactly: hello world"),
    ("What is the output of 'AbC'.swapcase() in Python?", "What is the output of 'aBc'.swapcase() in Python?"),
    ("What is the SHA-256 hash of the string 'Hello'?", "What is the SHA-256 hash of the string 'hello'?"),
)

# whitespace_code: the same characters but for whitespace, which changes what the code does.
CODE_PAIRS: tuple[tuple[str, str, str, str], ...] = (
    ("loop-print", "python",
     "total = 0\nfor n in [1, 2, 3]:\n    total += n\n    print(total)",
     "total = 0\nfor n in [1, 2, 3]:\n    total += n\nprint(total)"),
    ("early-return", "python",
     "def first_big(items):\n    for item in items:\n        if item > 2:\n            return item\n    return None\n\n"
     "print(first_big([1, 5]))",
     "def first_big(items):\n    for item in items:\n        if item > 2:\n            return item\n"
     "        return None\n\nprint(first_big([1, 5]))"),
    ("else-block", "python",
     "x = 20\nif x > 10:\n    print('big')\nelse:\n    print('small')\nprint('done')",
     "x = 20\nif x > 10:\n    print('big')\nelse:\n    print('small')\n    print('done')"),
    ("split-spaces", "python", "print('a  b'.split(' '))", "print('a b'.split(' '))"),
    ("len-spaces", "python", "print(len('a  b'))", "print(len('a b'))"),
    ("yaml-nesting", "yaml", "server:\n  port: 8080\n  host: localhost", "server:\n  port: 8080\nhost: localhost"),
    ("makefile-tab", "make", "build:\n\tgo build ./...", "build:\n    go build ./..."),
)
CODE_QUESTIONS = {
    ("python", "en"): "What does this Python code print?",
    ("python", "ar"): "ماذا يطبع هذا الكود؟",
    ("yaml", "en"): "In this YAML, which keys are under `server`?",
    ("yaml", "ar"): "في ملف YAML هذا، ما المفاتيح الموجودة تحت `server`؟",
    ("make", "en"): "Will this Makefile work? Explain.",
    ("make", "ar"): "هل سيعمل ملف Makefile هذا؟ اشرح.",
}

# system_prompt_change: the same question under another system prompt.
SYSTEM_PROMPTS: dict[str, str] = {
    "brief": "Answer in one short sentence.",
    "detailed": "Answer in detail, with step-by-step explanations and examples.",
    "acme-bank": "You are the support assistant of Acme Bank. Answer only about Acme Bank's products and procedures.",
    "globex-telecom": "You are the support assistant of Globex Telecom. Answer only about Globex Telecom's services.",
    "reply-arabic": "Always reply in Arabic.",
    "reply-french": "Always reply in French.",
    "kids": "You are a tutor for 8-year-old children. Use very simple words.",
    "json-only": "Reply only with a JSON object with the keys 'answer' and 'confidence'.",
    "brief-ar": "أجب بجملة واحدة قصيرة.",
    "detailed-ar": "أجب بالتفصيل مع أمثلة وخطوات واضحة.",
    "kids-ar": "أنت معلّم لأطفال في الثامنة من العمر. استخدم كلمات بسيطة جداً.",
}
SYSTEMS_FOR = {
    "en": ("brief", "detailed", "acme-bank", "globex-telecom", "reply-arabic", "reply-french", "kids", "json-only"),
    "ar": ("brief-ar", "detailed-ar", "kids-ar", "acme-bank", "reply-french"),
}

# param_change: the same messages with a parameter that changes the answer.
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
PARAM_CHANGES: tuple[tuple[str, dict], ...] = (
    ("max-tokens-16", {"max_tokens": 16}),
    ("n-3", {"n": 3}),
    ("logprobs", {"logprobs": True, "top_logprobs": 3}),
    ("stop-period", {"stop": ["."]}),
)
WEATHER_EN = "What's the weather in {x} right now?"
WEATHER_AR = "كيف الطقس في {x} الآن؟"

# model_change: the same body sent to another model.
MODEL_CHOICES = ("gpt-4o-mini", "claude-haiku-4-5", "deepseek-chat", "gpt-4.1", "gemini-2.5-flash")

# context_change: the same last message after a different earlier turn.
# (key, [(role, template)], last message, [(entity key, English, Arabic)])
ALLERGENS = (("peanuts", "peanuts", "الفول السوداني"), ("milk", "milk", "الحليب"), ("gluten", "gluten", "القمح"),
             ("eggs", "eggs", "البيض"))
PROGRAMMING_LANGUAGES = (("python", "Python", "Python"), ("go", "Go", "Go"), ("rust", "Rust", "Rust"),
                         ("js", "JavaScript", "JavaScript"))
CONTEXTS_EN = (
    ("trip-weather", (("user", "I'm planning a trip to {x} next month."),
                      ("assistant", "Great choice! What would you like to know about {x}?")),
     "What's the weather usually like there in March?", CITIES),
    ("allergy-snack", (("user", "I'm allergic to {x}."), ("assistant", "Thanks, I'll keep that in mind.")),
     "Suggest a quick snack for me.", ALLERGENS),
    ("read-lines", (("user", "I'm writing a program in {x}."),
                    ("assistant", "Sounds good. What do you need help with?")),
     "How do I read a file line by line?", PROGRAMMING_LANGUAGES),
)
CONTEXTS_AR = (
    ("trip-weather", (("user", "أخطط لرحلة إلى {x} الشهر القادم."),
                      ("assistant", "اختيار رائع! ماذا تريد أن تعرف عن {x}؟")),
     "كيف يكون الطقس هناك عادة في شهر مارس؟", CITIES),
    ("allergy-snack", (("user", "عندي حساسية من {x}."), ("assistant", "شكراً، سآخذ ذلك في الاعتبار.")),
     "اقترح عليّ وجبة خفيفة سريعة.", ALLERGENS),
    ("read-lines", (("user", "أكتب برنامجاً بلغة {x}."), ("assistant", "جميل. بماذا أساعدك؟")),
     "كيف أقرأ ملفاً سطراً بسطر؟", PROGRAMMING_LANGUAGES),
)

# Tenants of the built-in workload, how much of the traffic each sends, and its usual system prompt.
TENANTS: tuple[tuple[str, float, str], ...] = (
    ("acme", 0.5, "You are Acme Corp's helpful assistant."),
    ("globex", 0.3, "You are a concise assistant for Globex employees. Keep answers short."),
    ("initech", 0.2, "You are Initech's internal helpdesk assistant."),
)
# Models the workload's requests name, with their share of traffic (all priced in the catalog seed).
MODEL_MIX: tuple[tuple[str, float], ...] = (
    ("gpt-4o-mini", 0.55), ("deepseek-chat", 0.15), ("claude-haiku-4-5", 0.15), ("gpt-4.1", 0.10),
    ("qwen-plus", 0.05),
)
