"""Where a case stands, read by code, so an example never presupposes a situation the case lacks.

Blind raters of tuning-set examples (``eval/ratings/tuning-1*``, ``tuning-2*``) rated unusable or to be edited
phrasings that were right for some case but not this one: "this usually takes up to [N] working days" and "I'll
write to you today how things stand" for a cake already delivered late (nothing is pending: the next step is the
remedy); "where it is now", "when it will arrive" and tracing with the courier for a bank refund; "two options"
for a customer who asked a yes/no question; "if this solution doesn't suit you" beside a draft that offered none;
"tell me more about what happened" to a customer who said what happened and what they want. So a phrasing may
``require`` or ``avoid`` these conditions (``knowledge/phrasebook.yaml``), read by cue words per language
(``coach.judging.cues``):

- ``parcel``: the message or the draft is about a delivery: a parcel, a courier, shipping, tracking;
- ``pending``: something is still to happen: the customer asks where things stand (``asks_status``) or asks for a
  remedy (``wants_*``), a service is still out (``service_down``), or the message or the draft says it is still
  awaited, not received or in progress;
- ``already_happened``: the customer complains about a past event (a complaint, ``coach.judging.complaints``, or
  a past-event cue: "ruined", "too late") and nothing is pending: the next step is the remedy, not a wait;
- ``yes_no_question``: the message asks whether something is so or can be done ("is it possible", "does it come
  with", "можно ли", "бола ма?"): the answer is a yes or a no, not options;
- ``draft_offers_solution``: a sentence of the draft offers a remedy (a refund, a replacement, options) and does
  not refuse it;
- ``customer_clear``: the message says what the customer wants (a ``wants_*`` request), or what went wrong and
  that they await it (a complaint with ``asks_status``): listening restates it instead of asking what happened.

Precision and recall on rows labelled by the cue writer: ``python -m bench.conditions`` (``eval/conditions.jsonl``).
"""

from __future__ import annotations

from collections.abc import Collection, Set

from coach.judging.cues import Cues, has_cue
from coach.text import split_sentences

SITUATIONS = (
    "parcel", "pending", "already_happened", "yes_no_question", "draft_offers_solution", "customer_clear",
)  # fmt: skip

PARCEL: Cues = {
    "en": ("parcel", "package", "courier", "delivery", "deliveries", "delivered", "deliver", "shipping", "shipped",
           "shipment", "dispatch", "tracking", "postman", "post office", "in transit"),
    "ru": ("посылк", "курьер", "доставк", "доставил", "доставлен", "доставят", "привез", "отправлени", "трек",
           "отслежива", "пункт выдачи", "сдэк", "почтой россии", "на почте", "бандерол"),
    "el": ("δεμα", "δεματ", "κουριερ", "courier", "παραδοσ", "παραδοθ", "παρεδωσ", "αποστολ", "ταχυδρομικ",
           "αριθμο παρακολουθησ", "tracking"),
    "kk": ("сәлемдеме", "курьер", "жеткізу", "жеткіземіз", "жеткізілмеді", "жеткізбеді", "жеткізіп бер",
           "жөнелтілім", "трек", "поштамен", "пошта бөлім",
           "әкелмеді", "әкелді"),
    "mn": ("илгээмж", "хүргэлт", "хүргэгд", "хүргэж", "хүргэсэн", "хүргээгүй", "курьер"),
}  # fmt: skip
# (Not "e-mail": "электрондық пошта", "ηλεκτρονικό ταχυδρομείο", "цахим шуудан" are no post; a driver may drive a taxi.)
# Still awaited or in progress: said in the message or the draft.
IN_PROGRESS: Cues = {
    "en": ("still waiting", "still not", "still hasn't", "still haven't", "not yet", "hasn't arrived",
           "haven't received", "in progress", "being processed", "is processing", "on its way", "in transit",
           "waiting for", "pending", "never received", "never arrived", "didn't arrive", "not received",
           "not arrived"),
    "ru": ("до сих пор", "всё ещё", "все еще", "ещё не", "еще не", "жду", "ждём", "ждем", "в обработке",
           "обрабатыва", "в процессе", "в пути", "рассматрива", "так и не", "не получил", "не доставили"),
    "el": ("ακομα δεν", "ακομη δεν", "ακομα να", "περιμενω", "περιμενουμε", "σε εξελιξη", "σε επεξεργασια",
           "επεξεργαζ", "καθ' οδον", "δεν εχει φτασει", "δεν εχω λαβει", "δεν ηρθε", "δεν παρελαβα",
           "δεν εχω παραλαβει"),
    "kk": ("әлі", "күтіп жүрмін", "күтудемін", "күтіп отырмын", "қаралып жатыр", "өңделіп жатыр", "жолда",
           "тексеріліп жатыр", "өңделуде", "келмеді", "жеткен жоқ", "алған жоқпын"),
    "mn": ("одоо болтол", "одоо хүртэл", "одоог хүртэл", "хүлээж байна", "хүлээсээр", "шийдвэрлэгдэж байгаа",
           "шалгагдаж байгаа", "замдаа", "ороогүй", "ирээгүй", "хүрээгүй", "аваагүй"),
}  # fmt: skip
# A past event complained of, beyond the complaint kinds: what is spoiled cannot be waited for.
PAST_EVENT: Cues = {
    "en": ("ruined", "spoiled", "was rude", "too late", "arrived late", "came late", "already left", "was wasted"),
    "ru": ("испорчен", "испортил", "слишком поздно", "уже разошлись", "опоздал", "нахамил", "пропал вечер"),
    "el": ("καταστραφηκε", "χαλασε η", "χαλασε το", "πολυ αργα", "ηταν αγενης", "ηρθε αργα"),
    "kk": ("бүлінді", "тым кеш", "кешігіп келді", "дөрекі сөйледі", "бұзылды кеш"),
    "mn": ("сүйрсэн", "хэтэрхий оройтсон", "хоцорч ирсэн", "бүдүүлэг харьцсан", "үйлчилсэн нь муу"),
}  # fmt: skip
# Whether something is so or can be done, asked in a question (the message must hold a question mark).
YES_NO: Cues = {
    "en": ("whether", "is it possible", "is there", "are there", "does it", "does the", "does this", "do you",
           "can i ", "could i", "can you", "could you"),
    "ru": ("~ ли ", "~ ли?", "~ ли,", "можно ли", "нельзя ли", "есть ли", "возможно ли"),
    "el": ("μπορειτε να", "υπαρχει", "ειναι δυνατ", "γινεται να", "περιλαμβαν", "θα μπορουσα"),
    "kk": ("~сыздар ма", "~сіздер ме", "~сыз ба", "бола ма", "бар ма", "мүмкін бе", "~ма екен",
           "~ме екен"),
    "mn": ("~х уу", "~х үү", "боломжтой юу", "бий юу", "байгаа юу", "эсэх"),
}  # fmt: skip
QUESTION_MARKS = ("?", ";", "\u037e")  # Greek writes its question mark as a semicolon
# A remedy offered in a sentence of the draft (a sentence that also refuses offers nothing).
OFFERS: Cues = {
    "en": ("i can offer", "we can offer", "i can send", "we can send", "i'll send", "we'll send", "we will send",
           "i will send", "i'll refund", "we'll refund", "we will refund", "i will refund", "refunded", "refund of",
           "have arranged", "i've arranged", "we've arranged", "replacement", "we can replace", "i can replace",
           "either", "option", "alternatively", "have issued", "i've issued", "we've issued", "can arrange",
           "i'll arrange", "we'll arrange", "i've booked", "we've booked", "compensation", "voucher", "credit",
           "exchange", "money back"),
    "ru": ("можем предложить", "могу предложить", "предлагаю", "предлагаем", "отправим", "отправлю", "вышлем",
           "вышлю", "вернём", "вернем", "верну ", "вернутся", "поступят", "оформили возврат", "оформим возврат",
           "оформил возврат", "заменим", "заменю", "обменяем", "компенсир", "компенсац", "промокод", "скидк",
           "либо", "вариант", "организуем", "починим", "бесплатн"),
    "el": ("μπορουμε να σας στειλουμε", "θα σας στειλουμε", "θα σας στειλω", "θα επιστρεψουμε", "θα σας επιστρεψ",
           "σας προτεινω", "σας προτεινουμε", "να σας προσφερ", "αντικατασταση", "επιστροφη χρηματων", "εκπτωση",
           "κουπονι", "πιστωσ", "ειτε", "εναλλακτικ", "αποζημιωσ", "δωρεαν"),
    "kk": ("ұсынамыз", "ұсына аламын", "ұсына аламыз", "ұсынамын", "жібереміз", "жіберемін", "қайтарамыз",
           "қайтарамын", "ауыстырамыз", "ауыстырып береміз", "өтемақы", "жеңілдік", "промокод", "не болмаса",
           "нұсқа", "тегін"),
    "mn": ("санал болгож", "санал болгоно", "илгээнэ", "илгээх болно", "буцаан олгоно", "буцааж өгнө", "буцаана",
           "солиж өгнө", "сольж өгнө", "нөхөн олговор", "хөнгөлөлт", "эсвэл", "хувилбар", "засаж өгнө", "үнэгүй"),
}  # fmt: skip


def _asks_yes_or_no(message: str, language: str) -> bool:
    return any(mark in message for mark in QUESTION_MARKS) and has_cue(YES_NO, language, message)


def _offers(draft: str, language: str, refuses: Cues) -> bool:
    return any(
        has_cue(OFFERS, language, sentence) and not has_cue(refuses, language, sentence)
        for sentence in split_sentences(draft)
    )


def detect_situation(
    draft: str, message: str, language: str, held: Set[str], refuses: Cues, requests: Collection[str]
) -> frozenset[str]:
    """The situation conditions of a case, given the conditions already read (``held``: requests and complaints),
    the draft's refusal cues and the names of the requests."""
    case = f"{message}\n{draft}"
    wants = bool(held & {r for r in requests if r.startswith("wants_")})
    complaint = bool(held - set(requests) - {"urgent", "draft_refuses", "cause_explained", "draft_thanked"})
    ongoing = "asks_status" in held or "service_down" in held  # a status asked, a service still out
    pending = wants or ongoing or has_cue(IN_PROGRESS, language, case)
    past = complaint or has_cue(PAST_EVENT, language, message)
    found = {
        "parcel": has_cue(PARCEL, language, case),
        "pending": pending,
        "already_happened": past and not pending,
        "yes_no_question": _asks_yes_or_no(message, language),
        "draft_offers_solution": _offers(draft, language, refuses),
        "customer_clear": wants or (complaint and "asks_status" in held),
    }
    return frozenset(name for name, holds in found.items() if holds)
