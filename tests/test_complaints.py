"""What the customer complains about, read per language from the message alone, and not read from a similar message
that complains about nothing (a question, the customer's own slip, awaited money, a service "not working")."""

from __future__ import annotations

import pytest

from coach.judging.complaints import COMPLAINTS, detect_complaints
from coach.judging.conditions import CONDITIONS, detect_conditions

# Real customer messages of the training drafts and the tuning set (eval/conditions.jsonl), with their complaint.
COMPLAINED = [
    ("en", "My washing machine (order 7731-ZX) was supposed to be delivered on 3 March. It's 10 March.", "late"),
    ("en", "I ordered a blue jacket (order 55219) and received a green one.", "wrong_item"),
    ("en", "Something was missing from my order last night. Order 61-2093.", "item_missing"),
    ("en", "My new phone arrived with a cracked screen. Order TM-908331.", "damaged_or_faulty"),
    ("en", "I was charged twice for my subscription this month.", "charged_wrongly"),
    ("en", "Your barista was really rude to me this morning at the Main St store.", "staff_rude"),
    ("en", "We've had no water since 6am and there's a baby in the house.", "service_down"),
    ("ru", "Обещали привезти диван 12 апреля, сегодня уже 15-е, никто даже не позвонил.", "late"),
    ("ru", "Пришли не те кроссовки — заказывала 38-й размер, а прислали 40-й.", "wrong_item"),
    ("ru", "У меня из заказа пропало одно блюдо. Верните деньги.", "item_missing"),
    ("ru", "Заказ №51734 пришёл с разбитым экраном.", "damaged_or_faulty"),
    ("ru", "Подскажите, почему с меня списали 299 ₽ за «Кино+»? Я это не подключал.", "charged_wrongly"),
    ("ru", "Курьер нахамил мне у подъезда и бросил коробку на землю.", "staff_rude"),
    ("ru", "Интернет не работает с понедельника, пишу уже третий раз!", "service_down"),
    ("el", "Η παραγγελία μου #31877 έπρεπε να φτάσει στις 5 Οκτωβρίου και ακόμα τίποτα.", "late"),
    ("el", "Παρήγγειλα μαύρες γόβες νούμερο 38 (παραγγελία #24511) και μου ήρθαν μπεζ.", "wrong_item"),
    ("el", "Στην παραγγελία μου έλειπε το αναψυκτικό, 2,50 €.", "item_missing"),
    ("el", "Το ψυγείο που αγόρασα χάλασε μετά από έναν μήνα.", "damaged_or_faulty"),
    ("el", "Με χρεώσατε δύο φορές τη συνδρομή του Μαρτίου, 9,99 € και πάλι 9,99 €.", "charged_wrongly"),
    ("el", "Ο διανομέας ήταν πολύ αγενής και μου πέταξε τη σακούλα στα χέρια.", "staff_rude"),
    ("el", "Τρίτη μέρα χωρίς ίντερνετ! Δουλεύω από το σπίτι.", "service_down"),
    ("kk", "Тапсырысымды 3 наурызда жеткіземіз деп уәде бердіңіздер, бүгін 9 наурыз.", "late"),
    ("kk", "Тапсырыс берген кезде сары түсті таңдадым, көк келді.", "wrong_item"),
    ("kk", "Қорапты ашсам, ішінде телефон жоқ, тек зарядтағыш жатыр!", "item_missing"),
    ("kk", "№45890 тапсырыспен келген шаңсорғыш бірінші күні-ақ істен шықты.", "damaged_or_faulty"),
    ("kk", "Картамнан бір сатып алу үшін 12 500 теңге екі рет алынды.", "charged_wrongly"),
    ("kk", "Сіздердің операторыңыз маған телефонмен дөрекі сөйледі!", "staff_rude"),
    ("kk", "Үш күннен бері үйде интернет жоқ, балаларым сабаққа қосыла алмай отыр!", "service_down"),
    ("mn", "Илгээмжийн дугаар MN48213377. 10 хоног болж байхад ирэхгүй байна.", "late"),
    ("mn", "Сайтаар захиалсан цүнх маань өөр өнгөтэй ирлээ.", "wrong_item"),
    ("mn", "Захиалга маань дутуу ирсэн.", "item_missing"),
    ("mn", "Захиалсан ширээ маань эвдэрхий ирлээ, нэг хөл нь хугарсан байна.", "damaged_or_faulty"),
    ("mn", "Төлбөр картнаас минь хоёр удаа суусан байна.", "charged_wrongly"),
    ("mn", "Танай кассчин надад дуугаа өндөрсгөж, намайг доромжилсон.", "staff_rude"),
    ("mn", "Аппликейшн руугаа өчигдрөөс хойш нэвтэрч чадахгүй байна.", "service_down"),
]
# Similar words, no complaint: a question, awaited money, a message or a code, the customer's own slip or fault.
NOT_COMPLAINED = [
    ("en", "My refund of $129.99 for order #55102 still hasn't arrived."),  # a refund: a request, not a delivery
    ("en", "Can I get a refund for my flight next week? I've broken my leg and can't travel."),
    ("en", "What happens if my parcel arrives damaged?"),
    ("ru", "Я оформила возврат куртки две недели назад, деньги 7 450 ₽ так и не пришли."),
    ("ru", "Отключите мне автопродление, не хочу, чтобы в следующем месяце списали деньги."),
    ("ru", "Мне отказали в выплате по КАСКО за разбитое стекло."),  # the customer's own loss, insured
    ("el", "Ποια είναι η χρέωση αν παραλάβω το αυτοκίνητο στη Θεσσαλονίκη;"),
    ("el", "Έκλεισα κατά λάθος 2 εισιτήρια για την προβολή των 18:00 αντί για των 21:00."),
    ("kk", "Постаматтан сәлемдемені алу коды SMS-пен келмеді. Қалай аламын?"),
    ("kk", "Кітапты 5 күн кешіктіріп қайтардым, айыппұл қанша болады?"),
    ("mn", "Хоёр долоо хоногийн өмнө бараагаа буцаасан, 89 000 төгрөг одоо болтол дансанд орж ирээгүй байна."),
    ("mn", "Манай 5-р байрны лифт 4 хоног ажиллахгүй байна. 14 давхарт амьдардаг."),  # "davkhar": a floor
]


@pytest.mark.parametrize(("language", "message", "complaint"), COMPLAINED)
def test_a_complaint_is_read_from_the_message_in_each_language(language: str, message: str, complaint: str) -> None:
    assert complaint in detect_complaints(message, language)


@pytest.mark.parametrize(("language", "message"), NOT_COMPLAINED)
def test_a_similar_message_that_complains_of_nothing_of_that_kind_is_not_read_as_one(
    language: str, message: str
) -> None:
    found = detect_complaints(message, language)
    assert not found & {"late", "damaged_or_faulty", "charged_wrongly", "wrong_item"}, found


def test_complaints_are_conditions_read_from_the_message_not_from_the_draft() -> None:
    assert set(COMPLAINTS) <= set(CONDITIONS)
    assert "charged_wrongly" in detect_conditions("Hello.", "You charged me twice!", "en")
    assert not detect_conditions("Sorry we charged you twice and it arrived late.", "Hello?", "en") & set(COMPLAINTS)
