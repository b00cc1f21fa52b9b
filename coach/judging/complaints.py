"""What the customer complains about, read by code from their message, so an example names what happened.

Blind raters of tuning-set examples (``eval/ratings/tuning-1*``) found apologies that own nothing ("please accept my
apologies for the inconvenience") and solutions that promise to "check which options are open" where the case
needs a concrete remedy (replace the chipped mug, refund the extra minutes). A phrasing can name the remedy only
when code knows what went wrong, so a phrasing may ``require`` one of these complaints (``knowledge/phrasebook.yaml``),
each read from the customer's message alone by cue words per language (the conventions of
``coach.judging.conditions``: lower-cased, word starts, "~" anywhere). They gate phrasings that name what
happened, so they are built for precision: a missed complaint costs a generic example, a false one a wrong remedy.

- ``late``: an order, a parcel, a delivery, a courier or a visit that has not come when promised or is still awaited
  (not money: a refund still awaited is a request, ``wants_refund`` / ``asks_status``);
- ``wrong_item``: what came is not what was ordered (another size, colour or product, someone else's order);
- ``item_missing``: part of an order did not come (an item, a dish missing from it);
- ``damaged_or_faulty``: what came is broken, damaged, cracked, or stopped working / does not work;
- ``faulty``: of those, what stopped working or does not work properly (not a chip or a crack), so an apology can
  say which ("it has stopped working" would be wrong for a chipped mug);
- ``charged_wrongly``: charged twice, overcharged, charged after cancelling, or for what was never ordered;
- ``staff_rude``: a member of staff was rude, shouted, insulted, rolled their eyes;
- ``service_down``: a service is out: no internet, power or water, an outage, the app or site down, cannot log in.

Precision and recall per complaint on the labelled sample: ``python -m bench.conditions`` (``eval/conditions.jsonl``).
"""

from __future__ import annotations

from coach.judging.cues import Cues, has_cue

COMPLAINTS = (
    "late", "wrong_item", "item_missing", "damaged_or_faulty", "faulty", "charged_wrongly", "staff_rude",
    "service_down",
)  # fmt: skip

COMPLAINT_CUES: dict[str, Cues] = {
    "late": {
        "en": ("hasn't arrived", "has not arrived", "haven't received", "have not received", "never arrived",
               "never received", "didn't arrive", "did not arrive", "not arrived", "still not arrived",
               "still hasn't come", "still waiting for my order", "still waiting for the delivery",
               "was supposed to be delivered", "supposed to arrive", "was due to arrive", "was due on",
               "should have arrived", "late delivery", "delivery was late", "deliveries were late", "arrived late",
               "came late", "turned up late", "is late", "running late", "delayed", "in transit for", "stuck in",
               "in transit", "marked as delivered", "courier didn't", "courier never", "no-show", "didn't show up",
               "didn't turn up", "never showed", "never came", "still no sign", "where is my order", "where's my order",
               "where is my parcel", "where's my parcel", "where is my package"),
        "ru": ("не пришёл", "не пришел", "не пришла", "не пришло", "не пришли", "не привезли", "не доставили",
               "так и не привез", "так и не достав", "до сих пор не", "всё ещё не", "все еще не", "опоздал на",
               "опоздала на", "опоздали на", "задерж", "обещали доставку", "обещали привезти", "должны были привезти",
               "должны были доставить", "привезли в", "где мой заказ", "где моя посылка", "где заказ", "где посылка",
               "висит в статусе", "мастер не пришёл", "мастер так и не", "прошла уже неделя", "прошло уже"),
        "el": ("δεν εχει φτασει", "δεν εφτασε", "δεν ηρθε", "δεν εχει ερθει", "δεν το εχω παραλαβει",
               "δεν εχω παραλαβει", "ακομα τιποτα", "ακομη τιποτα", "επρεπε να φτασει", "επρεπε να ερθει", "καθυστερ",
               "αργησε", "αργησαν", "κολλημενο εδω", "κολλημενη εδω", "εχει κολλησει", "που ειναι η παραγγελια",
               "που ειναι το δεμα", "δεν εχει ξεκινησει κανεις", "δεν εμφανιστηκε"),
        "kk": ("келмеді", "келген жоқ", "жеткізілмеді", "жеткізбеді", "әкелмеді", "кешікті", "кешігіп", "әлі жоқ",
               "әлі келмеді", "әлі жеткен жоқ", "тапсырысым қайда", "сәлемдемем қайда", "қашан әкел", "қашан жеткіз",
               "жөндеп жатырсыздар", "уәде бердіңіздер"),
        "mn": ("ирээгүй", "ирэхгүй байна", "хүргэгдээгүй", "хүргээгүй", "хүргэж өгөөгүй", "хоцорсон", "хоцорч",
               "хоцроо", "саатсан", "удаад байна", "хаана явааг", "хаана явна", "хаана байна", "засаагүй байна"),
    },
    "wrong_item": {
        "en": ("wrong item", "wrong size", "wrong colo", "wrong product", "wrong one", "wrong order",
               "sent me the wrong", "sent the wrong", "got the wrong", "received the wrong", "instead of the",
               "and got a", "and received a", "someone else's order", "not what i ordered", "isn't what i ordered"),
        "ru": ("не тот", "не та ", "не те ", "не того", "не ту ", "прислали не", "привезли не", "пришли не",
               "пришёл не", "пришел не", "пришла не", "чужой заказ", "перепутали"),
        "el": ("λαθος μεγεθος", "λαθος χρωμα", "λαθος προιον", "λαθος παραγγελια", "λαθος κομματι",
               "μου στειλατε λαθος", "μου ηρθε λαθος", "μου ηρθαν λαθος", "αλλο χρωμα", "αλλο μεγεθος", "αλλο προιον",
               "διαφορετικο χρωμα", "διαφορετικο μεγεθος", "και μου ηρθ", "ξενη παραγγελια"),
        "kk": ("басқа біреудің", "басқа түсті", "басқа түс", "басқа өлшем", "басқа тауар", "көк келді", "қызыл келді",
               "ақ келді", "қара келді", "сары келді", "дұрыс емес тауар", "тапсырыс бергенім емес"),
        "mn": ("өөр бараа", "өөр өнгө", "өөр хэмжээ", "өөр размер", "буруу бараа", "буруу хэмжээ", "буруу өнгө",
               "буруу захиалга", "захиалсан зүйл биш", "өөр хүний захиалга"),
    },
    "item_missing": {
        "en": ("missing from my order", "missing from the order", "missing from my box", "missing from the box",
               "missing from my bag", "missing from my delivery", "items were missing", "items missing",
               "was missing the", "were missing", "box was missing", "order was missing", "didn't include",
               "wasn't included", "weren't included", "only got 2", "only got two", "only got 1", "only got one"),
        "ru": ("из заказа пропал", "из заказа пропало", "пропало одно", "пропал один", "пропала одна",
               "не хватает одного", "не хватает одной", "не хватает товар", "не хватает блюд", "не положили",
               "недоложили", "недовезли", "не было в заказе", "не доложили", "не довезли"),
        "el": ("ελειπε", "ελειπαν", "λειπουν", "λειπει η μιση", "λειπει απο την παραγγελια", "δεν περιειχε",
               "δεν ηταν μεσα"),
        "kk": ("ішінде телефон жоқ", "салынбаған", "салмапсыз", "жетпей тұр", "тапсырыстан жоқ", "жартысы жоқ"),
        "mn": ("дутуу ирсэн", "дутуу ирлээ", "дутуу хүргэ", "байхгүй ирсэн", "ороогүй ирсэн"),
    },
    "damaged_or_faulty": {
        "en": ("broken", "broke", "damaged", "cracked", "chipped", "a chip", "dented", "smashed", "shattered",
               "scratched", "torn", "ripped", "leaking", "leaks", "stopped working",
               "won't turn on", "won't switch on", "won't charge", "defective",
               "faulty", "came apart", "fell apart", "dead on arrival", "tint"),
        "ru": ("сломал", "сломан", "разбит", "разбил", "поврежд", "треснул", "трещин", "царапин", "поцарап", "порван",
               "протека", "течёт", "течет", "перестал работать", "перестала работать", "перестало работать",
               "не включается", "не заряжается", "брак", "бракован", "неисправ", "отвалил", "мятая",
               "помят", "вышел из строя", "вышла из строя"),
        "el": ("χαλασ", "σπασμεν", "εσπασε", "ραγισ", "χτυπημεν", "γρατζουν", "σκισμεν", "τρεχει νερο",
               "σταματησε να λειτουργ", "δεν ανοιγει", "δεν ανοιγει", "ελαττωματικ",
               "προβληματικ", "ζημια", "κατεστραμμεν"),
        "kk": ("сынған", "сынып", "сынық", "бұзылды", "бұзылған", "бұзылып", "жарылған", "жарылып", "сызат", "зақымдал",
               "істен шықты", "қосылмайды", "ақау", "жабылмай тұр", "ағып тұр"),
        "mn": ("эвдэрсэн", "эвдэрхий", "эвдэрчих", "хагарсан", "хугарсан", "гэмтэлтэй", "гэмтсэн", "гэмтэж",
               "ховхорсон", "ховхорчих", "ажиллахаа больсон", "асахгүй", "холбогдохгүй", "урагдсан",
               "согогтой", "гоождог", "гоожиж"),
    },
    "faulty": {
        "en": ("stopped working", "stopped sending", "won't turn on", "won't switch on", "won't charge", "defective",
               "faulty", "broke down", "has broken down", "dead on arrival", "leaking", "leaks"),
        "ru": ("перестал работать", "перестала работать", "перестало работать", "не включается", "не заряжается",
               "брак", "бракован", "неисправ", "вышел из строя", "вышла из строя", "сломался", "сломалась",
               "протека", "течёт", "течет"),
        "el": ("σταματησε να λειτουργ", "χαλασε", "χαλασμεν", "ελαττωματικ", "τρεχει νερο"),
        "kk": ("істен шықты", "бұзылды", "бұзылып қалды", "қосылмайды", "ақау", "жабылмай тұр", "ағып тұр"),
        "mn": ("ажиллахаа больсон", "асахгүй", "холбогдохгүй", "согогтой", "гоождог", "гоожиж"),
    },
    "charged_wrongly": {
        "en": ("charged twice", "charged me twice", "double charged", "double-charged", "charged double", "taken twice",
               "paid twice", "overcharged", "over-charged", "wrong amount", "charged me for", "charged for something",
               "charged after", "after i cancelled", "after i canceled", "still charging", "still charged me",
               "never ordered", "didn't order", "didn't sign up", "never signed up", "bill is wrong", "billed twice",
               "billed me twice"),
        "ru": ("списали дважды", "списали два раза", "дважды списали", "два раза списали", "списали лишн",
               "списали с меня", "списали с нас", "двойное списание", "двойная оплата", "оплатил дважды",
               "оплатила дважды", "выставили счёт", "выставили счет", "счёт на", "счет на", "переплат", "не подключал",
               "не подключала", "не заказывал", "не заказывала"),
        "el": ("χρεωθηκα διπλ", "διπλη χρεωση", "με χρεωσατε δυο", "χρεωθηκα δυο", "λαθος χρεωσ", "λαθος ποσο",
               "υπερχρεωσ", "χρεωση ειναι λαθος", "λογαριασμο μου ειναι λαθος", "μου πηρατε", "με χρεωνετε ακομα"),
        "kk": ("екі рет алын", "екі рет ақша", "екі рет шешіл", "екі рет төле", "екі мәрте", "артық алын",
               "артық шешіл", "артық төле", "шешіліп жатыр", "шешіліпті", "ақша шешілді", "шоттан алынып", "қате сома",
               "айырмасы", "қосылмаған қызмет"),
        "mn": ("давхар төл", "давхар суу", "давхар хасаг", "давхар тооц", "хоёр удаа суу", "хоёр удаа хасаг",
               "хоёр удаа төл", "хоёр удаа тат", "илүү төлбөр", "илүү мөнгө", "дахин нэмэгдсэн", "дахин өссөн",
               "мөнгө маань хасагдсан", "дахиад суучих", "буруу тооцо", "төлбөр маань", "нэмэгдсэн бэ"),
    },
    "staff_rude": {
        "en": ("rude", "rudely", "shouted", "yelled", "rolled his eyes", "rolled her eyes", "rolled their eyes",
               "rolled eyes", "insulted", "was mocked", "laughed at me", "treated like", "hung up on me",
               "disrespectful", "condescending", "unprofessional"),
        "ru": ("нахамил", "хамил", "хамств", "грубил", "грубо", "нагрубил", "накричал", "кричал", "оскорб", "хамка",
               "хам ", "бросил трубку", "закатил глаза", "неуважительн", "унизил"),
        "el": ("αγενη", "αγενεια", "αγενως", "απομα", "απομη", "αποτομ", "μου φωναξ", "φωναζε", "με προσβαλ",
               "με ειρωνευ", "αγενες", "μου εκλεισε το τηλεφωνο"),
        "kk": ("дөрекі", "дөрекілік", "айқайла", "айғайла", "қорлады", "менсінбей", "мазақта", "тұтқаны тастап"),
        "mn": ("доромжил", "бүдүүлэг", "дуугаа өндөрсгө", "хашхир", "загнасан", "хүндлэлгүй", "ёжил", "утсаа тасалсан",
               "муухай харьц", "муухай ярьс"),
    },
    "service_down": {
        "en": ("no internet", "internet is down", "internet has been down", "internet keeps dropping",
               "internet has been dropping", "internet dropping", "no power", "power cut", "power outage",
               "no electricity", "no water", "no hot water", "no heating", "outage", "is down", "went down",
               "service down", "can't log in", "cannot log in", "can't log into", "unable to log in", "can't sign in",
               "cannot sign in", "can't get into my", "keeps logging me out", "keeps crashing", "site is down",
               "app is down", "not loading", "won't load"),
        "ru": ("интернет не работает", "нет интернета", "пропал интернет", "интернет пропал", "отключили свет",
               "нет света", "нет электричества", "отключили воду", "нет воды", "нет горячей воды", "нет отопления",
               "отключили отопление", "сервис упал", "сервис опять упал", "упал посреди", "не могу войти",
               "не могу зайти", "не получается войти", "не получается зайти", "сайт не работает",
               "приложение не работает", "сбой", "авария", "лежит сайт"),
        "el": ("δεν εχω ιντερνετ", "δεν εχουμε ιντερνετ", "χωρις ιντερνετ", "πεσμενο", "επεσε το", "δεν εχω ρευμα",
               "δεν εχουμε ρευμα", "χωρις ρευμα", "διακοπη ρευματος", "δεν εχω νερο", "δεν εχουμε νερο", "χωρις νερο",
               "διακοπη νερου", "δεν εχουμε ζεστο νερο", "δεν μπορω να συνδεθω", "δεν μπορω να μπω",
               "δεν ανοιγει η εφαρμογη", "δεν ανοιγει το site", "βλαβη", "δεν εστειλε"),
        "kk": ("интернет жоқ", "интернеттеріңіз", "интернет істемейді", "интернет жұмыс істемейді", "интернет өшіп",
               "жарық жоқ", "жарық сөніп", "электр жоқ", "су жоқ", "ыстық су жоқ", "жылу жоқ", "кіре алмай",
               "кіре алмаймын", "қосыла алмай", "жүйе істемейді", "қосымша істемейді", "банкоматтарыңыз",
               "сайт ашылмай", "қосымша ашылмай"),
        "mn": ("интернет тасар", "интернэт тасар", "интернет байхгүй", "интернэт байхгүй", "интернет ажиллахгүй",
               "интернэт ажиллахгүй", "цахилгаан тасар", "гэрэл тасар", "ус байхгүй", "халуун ус байгаагүй",
               "халуун ус байхгүй", "ус тасар", "дулаан байхгүй", "нэвтэрч чадахгүй", "нэвтэрч чадсангүй",
               "нэвтрэх боломжгүй", "систем доголдол", "системийн доголдол", "хаалттай байсан", "ажиллахгүй байна уу"),
    },
}  # fmt: skip
# Awaited money is no late delivery ("my refund still hasn't arrived"): with one of these words in the message,
# ``late`` needs a word of a delivery or a visit too.
MONEY: Cues = {
    "en": ("refund", "money", "payment", "transfer", "$", "£", "€"),
    "ru": ("деньги", "денег", "возврат", "средства", "оплат", "перевод", "₽", "руб"),
    "el": ("χρηματ", "λεφτα", "επιστροφη", "πληρωμ", "αποζημιωσ", "€"),
    "kk": ("ақша", "төлем", "теңге", "аударым"),
    "mn": ("мөнгө", "төлбөр", "төгрөг", "₮", "дансанд"),
}  # fmt: skip
DELIVERY: Cues = {
    "en": ("parcel", "package", "deliver", "courier", "shipment"),
    "ru": ("посылк", "доставк", "достав", "курьер", "привез", "мастер"),
    "el": ("δεμα", "παραδοσ", "παραδοθ", "κουριερ", "αποστολ", "παραγγελια μου"),
    "kk": ("сәлемдеме", "жеткіз", "курьер", "әкел", "шебер"),
    "mn": ("илгээмж", "хүргэ", "хүргэлт", "захиалга маань", "захиалсан"),
}  # fmt: skip
# A message, a link or a code that did not come is no late delivery.
NOT_LATE: Cues = {
    "en": ("email hasn't arrived", "code hasn't arrived", "link hasn't arrived", "confirmation"),
    "ru": ("письмо", "код не при", "смс не при", "ссылка не при", "подтверждение", "ответ", "я опоздал", "я опоздала",
           "опоздал с", "опоздала с"),
    "el": ("δεν ηρθε το email", "δεν ηρθε ο κωδικος", "δεν ηρθε το μηνυμα", "επιβεβαιωσ", "απαντηση"),
    "kk": ("сілтеме", "хат", "хабар келмеді", "хабарлама", "код", "sms", "смс", "кешіктіріп", "кешіктірдім"),
    "mn": ("мессеж", "код ирээгүй", "имэйл", "линк", "мэдэгдэл", "хариу ирээгүй"),
}  # fmt: skip
# The customer's own breakage or injury is no faulty product of ours.
OWN_DAMAGE: Cues = {
    "en": ("broken my", "broke my", "i broke", "i've broken", "i have broken", "i damaged", "i dropped"),
    "ru": ("я сломал", "я разбил", "я уронил", "сломал ногу", "сломала ногу", "сломал руку", "сломала руку"),
    "el": ("εσπασα", "μου επεσε", "χαλασα"),
    "kk": ("сындырып алдым", "түсіріп алдым", "аяғымды сындыр", "қолымды сындыр"),
    "mn": ("хугалчихсан", "унагаачихсан", "эвдэлчихсэн", "хөлөө хугал", "гараа хугал"),
}  # fmt: skip
# Damage in an insurance claim is the customer's loss, not a faulty product of ours.
INSURANCE: Cues = {
    "en": ("insurance", "insured", "policy", "claim"),
    "ru": ("страхов", "каско", "осаго", "полис", "выплат"),
    "el": ("ασφαλ", "συμβολαιο", "αποζημιωσ"),
    "kk": ("сақтандыру", "полис"),
    "mn": ("даатгал",),
}  # fmt: skip
# What looks like a complaint and is not one: a question about a case in general, the customer's own slip.
NOT_A_COMPLAINT: Cues = {
    "en": ("what if", "what happens if", "in case", "would i", "if it arrives", "if my order", "if my parcel"),
    "ru": ("а если", "что если", "если вдруг", "в случае"),
    "el": ("τι γινεται αν", "σε περιπτωση", "αν τυχον"),
    "kk": ("егер", "жағдайда"),
    "mn": ("хэрэв", "тохиолдолд"),
}  # fmt: skip


# Money the customer awaits (a refund, a payout, a transfer, a benefit) that has not come: for the similar replies'
# situation kinds only (``coach.judging.conditions.situation_kinds``), beside a MONEY cue.
NOT_RECEIVED: Cues = {
    "en": ("hasn't arrived", "has not arrived", "hasn't come through", "not received", "haven't received",
           "haven't got", "still haven't", "still hasn't", "still not", "still no", "not been paid", "hasn't been paid",
           "not yet", "no sign of"),
    "ru": ("не пришл", "не пришел", "не пришёл", "не поступ", "не вернули", "так и не", "до сих пор не", "всё ещё не",
           "все еще не", "не получил", "не выплат", "не зачисл"),
    "el": ("δεν εχω παρει", "δεν εχω λαβει", "δεν το εχει λαβει", "δεν εχει λαβει", "δεν εχει ερθει", "δεν ηρθαν",
           "δεν εχουν επιστραφει", "ακομα δεν", "ακομη δεν", "ακομα τιποτα", "ακομη τιποτα", "δεν το εχω παρει"),
    "kk": ("түскен жоқ", "түспей", "түспеді", "келген жоқ", "келмеді", "қайтарылмады", "қайтармады", "әлі жоқ",
           "алған жоқпын", "кешікті"),
    "mn": ("орж ирээгүй", "ороогүй", "ирээгүй", "аваагүй", "олгоогүй", "буцаагаагүй", "хоцорсон", "орсонгүй"),
}  # fmt: skip


def money_awaited(customer_message: str | None, language: str) -> bool:
    """Whether the customer says money due to them (a refund, a payout, a transfer) has not come."""
    message = customer_message or ""
    money = has_cue(MONEY, language, message) and not has_cue(DELIVERY, language, message)
    return money and has_cue(NOT_RECEIVED, language, message)


def detect_complaints(customer_message: str | None, language: str) -> frozenset[str]:
    """What the customer's message complains about (a subset of ``COMPLAINTS``); none for a hypothetical."""
    message = customer_message or ""
    if not message or has_cue(NOT_A_COMPLAINT, language, message):
        return frozenset()
    held = {name for name, cues in COMPLAINT_CUES.items() if has_cue(cues, language, message)}
    money_only = has_cue(MONEY, language, message) and not has_cue(DELIVERY, language, message)
    if money_only or has_cue(NOT_LATE, language, message):
        held.discard("late")
    # a service "not working" is out, not faulty; an insured loss or the customer's own breakage is not our product
    if "service_down" in held or has_cue(INSURANCE, language, message) or has_cue(OWN_DAMAGE, language, message):
        held -= {"damaged_or_faulty", "faulty"}
    if "faulty" in held:
        held.add("damaged_or_faulty")
    return frozenset(held)
