"""The intent rules: weighted Japanese and English patterns, each adding its weight to one intent (a negative
weight is a cue against it). ``intents.score_intent`` matches them against a message."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shop_app.answers.understanding.model import Intent


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    intent: Intent
    weight: float
    pattern: re.Pattern[str]


def _rules(intent: Intent, *rows: tuple[str, float, str]) -> list[Rule]:
    return [Rule(name, intent, weight, re.compile(pattern)) for name, weight, pattern in rows]


ORDER_WORDS = r"(?:order|package|parcel|stuff|items?|delivery|shipment|purchase|things?|box|goods)"
RULES: list[Rule] = [
    *_rules(
        Intent.ORDER_STATUS,
        (
            "en:where_is_my_order",
            3.5,
            rf"where(?:'s| is| are|s)? (?:my|our|the|this|it)\b(?: \w+)? ?{ORDER_WORDS}?",
        ),
        ("en:where_is_it", 2.0, r"where (?:is|are) (?:it|they)\b"),
        ("en:where", 1.5, r"\bwhere(?:'s|s)?\b"),
        (
            "en:nowhere",
            2.5,
            (
                r"nothing (?:yet|has (?:come|arrived|shown up))|nowhere to be|no sign of|"
                r"(?:haven't|have not|never) seen (?:it|them|my)|make it (?:by|before|in time)|"
                r"(?:arrive|get here|be here|be delivered) (?:by|before|in time)|in time for"
            ),
        ),
        ("en:where_order", 3.0, rf"\bwhere\b.{0, 30}\b{ORDER_WORDS}\b"),
        (
            "en:any_update",
            2.0,
            (
                r"any (?:update|news|progress)|what's (?:going on|happening)|"
                r"what is (?:going on|happening)|anything happened|coming along|"
                r"how(?:'s| is) my (?:order|package|delivery)"
            ),
        ),
        ("en:shipped_word", 1.5, r"\b(?:shipped|dispatched|ship|shipping)\b"),
        ("en:you_shipped", 2.0, r"\b(?:did|have|has) you (?:ship|send|dispatch|post|mail)"),
        ("en:tracking", 3.0, r"\btrack(?:ing)?\b"),
        (
            "en:shipped_yet",
            3.0,
            (
                r"\b(?:has|have|did|was|is|were|been)\b.{0,30}\b(?:shipped|dispatched|sent out|sent|"
                r"left|gone out|went out|go out|posted|mailed)\b"
            ),
        ),
        ("en:arrived_question", 3.0, r"\b(?:has|have|did)\b.{0,30}\b(?:been delivered|arrived|arrive)\b"),
        (
            "en:when_arrive",
            3.0,
            (
                r"\b(?:when|how soon|what day|what date)\b.{0,50}\b(?:arrive|arriving|arrived|ship|"
                r"shipped|shipping|deliver\w*|get here|receive|get it|get my|be here|dispatched|sent|"
                r"expect)"
            ),
        ),
        (
            "en:order_status",
            3.0,
            r"order status|status (?:of|for|on)\b|\bstatus\b.{0,20}\border\b|\border\b.{0,20}\bstatus\b",
        ),
        (
            "en:not_arrived",
            3.0,
            (
                r"\bnot (?:arrived|received|delivered|here)|"
                r"(?:hasn't|has not|haven't|have not|didn't|did not|still not|not yet|never|hasnt|"
                r"havent|didnt|still haven't|still hasn't|yet to)\b.{0,20}\b(?:arrived|arrive|"
                r"received|receive|come|shipped|got|gotten|been delivered|show(?:ed|n)? up|turned up|"
                r"gotten)"
            ),
        ),
        # "#1004 status?", "status of #1004?": the word alone, made a question by the order number beside it
        ("en:status_word", 2.0, r"\bstatus\b"),
        (
            "en:update_on",
            2.5,
            rf"\b(?:update|news|info\w*)\b.{{0,15}}\b(?:on|about|regarding|for)\b.{{0,15}}\b{ORDER_WORDS}",
        ),
        # "what's the latest on #3051?", "any word on order 2040?": asking for news of a named order
        (
            "en:latest_on",
            2.0,
            r"\b(?:latest|word|news)\b.{0,10}\b(?:on|about|regarding|with)\b.{0,15}(?:#\s?\d|\b(?:order|no\.?)\s*\d)",
        ),
        (
            "en:in_transit",
            2.5,
            (
                r"out for delivery|in transit|estimated delivery|delivery date|\beta\b|"
                r"on (?:its|the) way|expected delivery|delivery status|shipping status|shipping update|"
                r"shipping confirmation"
            ),
        ),
        (
            "en:waiting",
            2.5,
            rf"(?:still|been) waiting|waiting (?:for|on) (?:my|the|an?) ?(?:\w+ )?{ORDER_WORDS}",
        ),
        ("en:order_word", 1.0, rf"\b{ORDER_WORDS}\b"),
        (
            "en:my_order",
            1.0,
            (
                r"\bmy (?:order|package|parcel|delivery|shipment|purchase)\b|"
                r"\bi (?:ordered|placed an order|bought|purchased)"
            ),
        ),
        (
            "en:check_order",
            2.0,
            (
                r"(?:check\w*|look\w* up|look\w* into|find|confirm)\b.{0,15}\b(?:my |the |"
                r"on )?(?:order|package|delivery)"
            ),
        ),
        (
            "ja:not_arrived",
            3.5,
            (
                r"まだ何も(?:来|届)|届く気配|届く様子|音沙汰|届かない|届いていない|届いてない|届いておりません|届きません|届いてません|まだ届|届いていません|未着|"
                r"着いていない|着いてない|着きません|受け取っていない|受け取れていない"
            ),
        ),
        (
            "ja:when_arrive",
            3.5,
            (
                r"いつ(?:頃|ごろ|くらい|ぐらい)?(?:に)?お?(?:届|着|発送|到着|出荷|配達|送っ|発送され|受け取)|届く(?:の|予定|日)|到着(?:予定|日|は)|"
                r"(?:配達|配送|お届け|発送|出荷)予定|届き(?:ますか|ますでしょうか)|何日(?:に|頃)届"
            ),
        ),
        (
            "ja:shipped",
            3.0,
            (
                r"発送(?:され|済|状況|予定|日|は|まだ|して(?:いただけ|もら|いますか|ますか|くれ)|しました|しましたか|完了|連絡|通知|のご連絡)|"
                r"出荷(?:され|状況|予定|日|済|しました|は)|発送はまだ|まだ発送|もう発送|(?:発送|出荷)の(?:連絡|通知|メール|案内|お知らせ)"
            ),
        ),
        (
            "ja:status",
            3.0,
            (
                r"配送状況|配達状況|注文状況|ご注文の状況|注文の状況|(?<!在庫)状況を(?:確認|教え|知り)|状況(?:は|が)(?:どう|知りた|わから)|ステータス|進捗|"
                r"今どこ|どこにあり|どこにある|どのあたり|どの辺|どこまで来"
            ),
        ),
        ("ja:tracking", 3.0, r"追跡|問い合わせ番号|お問合せ番号|伝票番号|送り状番号|トラッキング"),
        ("ja:still_not", 2.5, r"まだですか|まだでしょうか|まだかな|まだなの"),
        ("ja:package", 1.5, r"荷物|配達|配送|届い|届け|到着"),
        ("ja:how_is_it", 1.5, r"どうなって(?:い|ま|る)|どうなりました"),
        # "#1004の状況は？": the word alone, which the order number beside it makes a status question
        ("ja:status_word", 2.0, r"(?<!在庫)(?<!入荷)状況|状態は"),
        ("ja:order_word", 1.0, r"注文|オーダー|購入した|買った"),
    ),
    *_rules(
        Intent.STOCK,
        (
            "en:in_stock",
            3.5,
            (
                r"in stock|out of stock|\bstock\b|restock\w*|sold[- ]?out|back in|\bback yet\b|"
                r"\bavailab\w*|any left|have any more|\bleft in\b|\bleft\?"
            ),
        ),
        (
            "en:do_you_have",
            3.0,
            (
                r"do (?:you|u|ya)(?: guys)? (?:still )?(?:have|carry|sell|stock|got)\b|have you got|"
                r"is there (?:any|a|an)\b|are there any\b"
            ),
        ),
        (
            "en:can_i_buy",
            3.5,
            r"can i (?:still )?(?:buy|order|purchase|grab)\b|(?:pre-?order|backorder|back order)",
        ),
        (
            "en:when_back",
            3.0,
            (
                r"when (?:will|is|are|do)\b.{0,50}\b(?:back|available|restocked|come back|"
                r"coming back|get more|get new|be in)\b"
            ),
        ),
        (
            "en:coming",
            3.0,
            (
                r"(?:more|new stock|new ones)\b.{0,40}\bcoming|com(?:e|ing) back\b|"
                r"expect (?:more|new|another)\b|getting more\b"
            ),
        ),
        ("en:how_many", 2.5, r"how many\b.{0,40}\b(?:left|have|in stock|remain)"),
        ("en:location", 1.0, r"\b(?:store|shop|branch|location|showroom|warehouse)\b"),
        ("ja:stock", 4.0, r"在庫"),
        ("ja:restock", 3.5, r"入荷|再販|再生産|補充"),
        ("ja:sold_out", 3.5, r"売り切れ|売切|品切れ|品切|完売|欠品|sold ?out"),
        ("ja:how_many", 3.0, r"何個|何点|何枚|いくつ|あと何|残り何|残数"),
        ("ja:preorder", 2.0, r"予約(?:注文|販売|でき|受付)"),
        ("ja:can_buy", 3.0, r"(?:買え|購入でき|購入可能|注文可能|注文でき|手に入り|取り寄せ)"),
        (
            "ja:is_there",
            2.0,
            r"(?:あります|ありますか|ございますか|ありませんか|ある\?|あるか|あるの|あります\?|残って|残り|まだある)",
        ),
        ("ja:handled", 2.0, r"取り扱い|取扱|扱って"),
        ("ja:location", 1.0, r"店舗|店頭|実店舗|お店"),
    ),
    *_rules(
        Intent.CANCEL,
        ("en:cancel", 5.0, r"\bcancel\w*"),
        (
            "en:changed_mind",
            3.5,
            (
                r"changed my mind|no longer (?:want|need)|"
                r"don't (?:want|need) (?:it|this|the order|the item|them) any ?more|"
                r"do not want (?:it|this order)|stop (?:my|the|this) order|call off|"
                r"ordered by (?:mistake|accident)|accidentally ordered|ordered (?:it )?twice|"
                r"don't want (?:it|them)"
            ),
        ),
        ("ja:cancel", 5.0, r"キャンセル|取り消|取消|取りやめ|注文をやめ|やめたい|やめます|中止"),
        (
            "ja:no_longer",
            3.0,
            r"不要になり|いらなくな|要らなくな|間違えて注文|誤って注文|二重に注文|重複して注文|二回注文",
        ),
    ),
    *_rules(
        Intent.RETURN_EXCHANGE,
        (
            "en:return",
            4.5,
            r"\breturn(?:s|ed|ing)?\b|send (?:it |them |this |these )?back|ship (?:it|them) back|rma\b",
        ),
        ("en:exchange", 4.5, r"\bexchang\w*|\bswap\b"),
        ("en:other_size", 1.5, r"different size|bigger size|smaller size|size up|size down"),
        (
            "en:fit",
            3.0,
            (
                r"too (?:small|big|large|tight|loose|long|short)|"
                r"(?:doesn't|does not|didn't|did not|don't|do not) fit|runs? (?:small|large|big)"
            ),
        ),
        ("ja:return", 5.0, r"返品|返却|返送|送り返"),
        ("ja:exchange", 5.0, r"交換|取り替え|取替"),
        (
            "ja:fit",
            3.0,
            r"小さすぎ|大きすぎ|きつすぎ|サイズが合わ|合わなかった|サイズが小さ|サイズが大き|入らなかった",
        ),
    ),
    *_rules(
        Intent.ADDRESS_CHANGE,
        (
            "en:change_address",
            5.0,
            (
                r"(?:change|update|correct|fix|edit|modify)\b.{0,25}\baddress|"
                r"address\b.{0,30}\b(?:wrong|incorrect|change|mistake|typo|outdated|old|missing|fix|correct)|"
                r"(?:typo|mistake|missing|error)\b.{0,20}\baddress|wrong address|"
                r"wrong (?:zip|postal|post) ?code|"
                r"(?:zip|postal|post) ?code\b.{0,20}\b(?:wrong|incorrect|mistake|typo)|new address|"
                r"different address|\bmoved\b|moving house|redirect|address change"
            ),
        ),
        ("en:address", 1.5, r"\baddress\b"),
        (
            "en:delivery_time_change",
            5.0,
            r"(?:change|reschedule)\b.{0,20}\b(?:delivery (?:date|time|day)|the delivery)",
        ),
        (
            "ja:change_address",
            5.0,
            r"(?:住所|届け先|配送先|送り先|発送先|番地|部屋番号|郵便番号).{0,30}(?:変更|修正|訂正|間違|まちが|違|誤|変え|抜け|古い|旧)|引っ越|転居|住所変更",
        ),
        ("ja:address", 1.5, r"住所|届け先|配送先|送り先|発送先"),
        (
            "ja:delivery_time_change",
            5.0,
            r"(?:配達|お届け|配送)(?:日|日時|時間|時間帯|予定日).{0,15}(?:変更|指定し直|変え)|日時(?:を|の)?変更",
        ),
    ),
    *_rules(
        Intent.BILLING_REFUND,
        ("en:refund", 5.5, r"\brefund\w*|money back|reimburse\w*"),
        (
            "en:charged",
            4.0,
            (
                r"charged (?:me )?(?:twice|two times|double|more|again|wrong)|double[- ]charged|"
                r"overcharged|charged\b|\bcharge\b"
            ),
        ),
        (
            "en:payment",
            3.0,
            (
                r"\bpayment\b|\binvoice\b|\breceipt\b|\bbilling\b|\bbilled\b|credit card|\bcard\b|paypal|"
                r"declined|paid twice|\bcharges\b|\bstatement\b|\btax\b|\bvat\b|duties"
            ),
        ),
        ("en:coupon", 2.5, r"coupon|discount code|promo code|gift card|store credit|points"),
        ("ja:refund", 5.5, r"返金|払い戻|返済"),
        (
            "ja:charged",
            5.0,
            r"請求|二重(?:に)?(?:決済|引き落|請求)|引き落と|課金|割引が?.{0,6}(?:適用|されて|効いて|反映)",
        ),
        (
            "ja:billing",
            4.0,
            r"決済|支払|領収書|クレジット|カード|代引|振込|振り込み|お金|料金が|金額が|課金|明細|インボイス",
        ),
        ("ja:coupon", 2.5, r"クーポン|ポイント|割引コード|ギフトカード"),
    ),
    *_rules(
        Intent.DAMAGED_WRONG_ITEM,
        (
            "en:damaged",
            5.0,
            (
                r"damag\w*|broken|broke\b|defect\w*|\btorn\b|ripped|\bstain\w*|scratch\w*|crack\w*|"
                r"faulty|doesn't work|does not work|not working|stopped working|smashed|dent\w*|\bhole\b|"
                r"crushed|leak\w*|shatter\w*|\bbent\b|in pieces|snapped|ruined|peeling|falling apart"
            ),
        ),
        (
            "en:wrong_item",
            5.0,
            (
                r"wrong (?:item|size|colou?r|product|one|thing|shoe|model)|not what i ordered|instead of|"
                r"(?:received|got|sent me|shipped me|sent) (?:the |a )?wrong|"
                r"(?:is|are|was|were) missing(?! from (?:my|the) address)|"
                r"missing (?:item|piece|part|one|from (?:my|the) (?:order|package|box|parcel|delivery))|"
                r"only (?:got|received) (?:one|1|part|half)|"
                r"(?:item|piece|part)s? (?:was|were|is|are) missing|not (?:in|inside) the (?:box|package)"
            ),
        ),
        (
            "ja:damaged",
            5.0,
            r"破損|壊れ|こわれ|傷|キズ|汚れ|よごれ|不良|割れ|破れ|やぶれ|欠け|粉々|バラバラ|ばらばら|不具合|動かない|故障|つぶれ|潰れ|へこ|凹|ほつれ|シミ|染み",
        ),
        (
            "ja:wrong_item",
            5.0,
            (
                r"違う商品|間違った商品|注文と(?:違|ちが)|違うサイズ|違う色|別の商品|入っていな|入ってない|入っていませ|入ってませ|足りな|足りませ|不足|"
                r"届いた(?:商品|もの)が(?:違|間違)|(?:色|サイズ|商品)が(?:違|間違)|誤配送|中身が(?:違|空)"
            ),
        ),
    ),
    *_rules(
        Intent.ORDER_CHANGE,
        (
            "en:add_to_order",
            4.5,
            (
                r"\b(?:add|include|put|throw)\b.{0,40}\b(?:(?:to|into|onto) (?:(?:my|the|this|that|an?) )?|"
                r"in (?:my|the|this|that|an?) )"
                r"(?:existing |current |previous |last |recent |same )?"
                r"(?:order|package|parcel|shipment|purchase)|"
                r"forgot to (?:add|order|include|buy)|\b(?:ship|send)\b.{0,25}\btogether\b|"
                r"\b(?:combine|merge)\b.{0,20}\b(?:orders?|shipping|shipments?)"
            ),
        ),
        (
            "en:own_mistake",
            5.0,
            (
                r"\bi (?:ordered|chose|picked|selected|bought) the wrong\b|"
                r"\bordered (?:the )?wrong (?:size|colou?r|item|one|product)"
            ),
        ),
        (
            "en:change_order",
            4.5,
            (
                r"\b(?:change|modify|edit|amend|alter|switch|swap|update)\b.{0,25}\b(?:my|the|this|that) "
                r"(?:order|size|colou?r|quantity|item)\b|"
                r"\b(?:change|switch|swap)\b.{0,25}\b(?:size|colou?r|quantity)\b.{0,40}\b(?:order|before)|"
                r"\b(?:remove|take)\b.{0,30}\b(?:from|off|out of) (?:my|the|this) order"
            ),
        ),
        (
            "ja:add_to_order",
            4.5,
            (
                r"(?:注文|オーダー)[#\d\s-]*に.{0,20}(?:追加|加え|入れ)|(?:商品|もの|アイテム)を(?:追加|足し)|追加注文|"
                r"同梱|一緒に(?:発送|送っ|送れ|送ら|届け|梱包)|まとめて(?:発送|送っ|送れ|送ら|届け)|"
                r"入れ忘れ|買い忘れ|注文し忘れ|追加(?:したい|できます|でき|可能|は可能|をお願い)"
            ),
        ),
        (
            "ja:change_order",
            4.5,
            (
                r"(?:注文|オーダー)(?:内容)?(?:を|の)?(?:変更|修正|訂正)|"
                r"(?:サイズ|色|カラー|数量|個数|商品)(?:を|の)?.{0,12}(?:変更|変え|減ら|増や)|"
                r"(?:注文|オーダー)[#\d\s-]*から.{0,15}(?:削除|外し|減ら)"
            ),
        ),
    ),
    *_rules(
        Intent.HUMAN,
        (
            "en:human",
            5.0,
            (
                r"\bhuman\b|real person|\ba person\b|actual person|live (?:agent|person|chat)|"
                r"representative|\bagent\b|operator|(?:talk|speak|chat) (?:to|with)\b|call me|phone call|"
                r"give me a call|customer (?:service|support|care)|\bstaff\b|"
                r"someone (?:who|from|in|at|real)|manager|supervisor|not a bot|stop the bot"
            ),
        ),
        ("en:bot", 1.5, r"\bbot\b|automated"),
        (
            "ja:human",
            5.0,
            (
                r"担当者|担当の方|人間|オペレーター|スタッフ|有人|電話(?:で|して|ください|がほしい|をください|をいただ|をもら|でき)|直接話|話したい|話せ|つないで|繋いで|"
                r"代わって|責任者|人と(?:話|やり取り)|対応できる方|店長|係の方|窓口|"
                # "a person (not the bot) should answer": 人に対応して, 人が答えて (not 友人に, 本人が…)
                r"(?<![友知個恋他主本商住])人(?:に|が|で)(?:対応|代わ|替わ|返信|答え|回答)"
            ),
        ),
        ("ja:bot", 1.5, r"ボット|自動返信|機械"),
    ),
    *_rules(
        Intent.POLICY,
        (
            "en:shipping_policy",
            4.5,
            (
                r"how long (?:does|do|will|would) (?:shipping|delivery|it|orders?|"
                r"international shipping|standard shipping)\b.{0,15}(?:usually |normally |generally |"
                r"typically )?(?:take|be)|"
                r"shipping (?:cost|costs|fee|fees|rate|rates|price|policy|options?|methods?|times?)|"
                r"how much (?:is|does|for) (?:shipping|delivery|postage)|"
                r"do you (?:ship|deliver) (?:to|internationally|overseas|abroad)|free shipping|"
                r"international shipping|(?:usual|normal|standard|average) (?:shipping|delivery) time|"
                r"delivery (?:times|options|areas?)|which carrier do you use|what carrier"
            ),
        ),
        (
            "en:the_shop_itself",
            5.5,
            (
                r"\b(?:shop|store|showroom|boutique|outlet)s?\b.{0,30}\b(?:visit|in person|come by|drop by|"
                r"stop by|located|nearby|near me|near here|where (?:i|we) can)\b|\bshowrooms?\b|"
                r"\b(?:physical|real|brick[- ]and[- ]mortar|retail|flagship|bricks)\s+"
                r"(?:shop|store|location)s?\b|"
                r"\b(?:is there|are there|do you have|have you got)\b.{0,10}\b(?:a |an |any )?"
                r"(?:shop|store|showroom|boutique|outlet)s?\b (?:in|near|around|at)\b|"
                r"\bvisit (?:your|the|a) (?:shop|store|showroom)"
            ),
        ),
        (
            "en:programme",
            6.0,
            (
                r"\brewards?\b|loyalty|membership|"
                r"\bmember(?:s|ship)? (?:program\w*|benefits|points|discount|card|perks|price)|"
                r"\bpoints? (?:program\w*|system|card|scheme)|\breferral|affiliate|ambassador|"
                r"subscription (?:program\w*|plan|box|service)|\bsubscribe and save|student discount|"
                r"birthday (?:discount|gift|coupon|offer)|\bvip\b|frequent (?:buyer|shopper)|"
                r"\b(?:earn|collect|accumulate|build up)\b.{0,10}\bpoints?\b"
            ),
        ),
        (
            "ja:shipping_policy",
            4.5,
            (
                r"送料|配送料|海外(?:発送|配送|への発送)|発送まで(?:の日数|何日|どのくらい|どれくらい)|"
                r"(?:通常|普段|だいたい|大体|一般的に)(?:何日|どのくらい|どれくらい)|(?:何日|どのくらい|どれくらい)(?:で|くらいで)届き|"
                r"届くまで(?:何日|どのくらい|どれくらい)|配送方法|配送業者|発送方法|への(?:発送|配送)|(?:海外|国外)(?:に|へ|にも)?(?:発送|配送)|"
                r"(?:発送|配送|お届け)(?:は|も)?(?:でき|可能)|(?:何日|どのくらい|どれくらい)(?:くらい|ぐらい)?かかり|"
                r"お届け(?:可能|できる)(?:地域|エリア)|離島|沖縄にも"
            ),
        ),
        (
            "ja:the_shop_itself",
            5.0,
            (
                r"(?:店舗|お店|実店舗|直営店|路面店|ショールーム|ショップ)(?:は|って|が|も)?(?:どこ|あります|ある\?|あるの|"
                r"ありませんか|ございますか)|(?:店舗|お店|実店舗|直営店)の(?:場所|住所|営業)|"
                r"(?:実店舗|店頭|お店)で(?:購入|買え|買う|見られ|見れ|試着|受け取)|"
                r"(?:行ける|行けます|伺え|訪問でき)(?:る)?(?:店舗|お店)"
            ),
        ),
        (
            "ja:programme",
            5.0,
            (
                r"ポイント(?:制度|プログラム|カード|サービス|の(?:有効期限|還元|貯め方))|ポイント(?:は|が)?(?:貯ま|たま|つき|付き|もらえ)|"
                r"会員(?:制度|プログラム|特典|ランク|割引|価格)|定期便|定期購入|サブスク|紹介の?(?:制度|プログラム|コード|特典)|友達紹介|"
                r"アフィリエイト|アンバサダー|ファンクラブ|メンバーシップ|ロイヤリティ|学割|誕生日(?:特典|クーポン)"
            ),
        ),
        (
            "en:return_policy",
            7.0,
            (
                r"(?:return|refund|exchange)s? (?:policy|policies|window|period)|"
                r"how (?:long|many days) (?:do i have|have i got) to (?:return|exchange)|"
                r"do you (?:accept|take|offer|allow) (?:returns?|exchanges?|refunds?)|"
                r"(?:returns|exchanges) (?:accepted|allowed|possible|free)|free returns"
            ),
        ),
        (
            "en:payment_methods",
            7.0,
            (
                r"payment (?:methods?|options?)|(?:ways|methods?) (?:to|of) pay|"
                r"(?:what|which) (?:cards|credit cards|payment)|"
                r"(?:do|can) (?:you|i) (?:accept|take|use|pay (?:by|with|via|in))\b.{0,25}\b"
                r"(?:(?<!gift )cards?|visa|mastercard|amex|jcb|paypal|apple pay|google pay|cash|"
                r"bank transfer|cash on delivery|konbini|convenience store)|cash on delivery|"
                r"pay at (?:a )?convenience store"
            ),
        ),
        (
            "en:gift_wrapping",
            5.0,
            r"gift[- ]?wrap\w*|\bwrapping\b|gift (?:message|box|bag|note|receipt)|noshi",
        ),
        (
            "en:business_hours",
            5.0,
            (
                r"open(?:ing)? (?:hours|times)|store hours|business hours|are you open|when (?:are|do) you "
                r"(?:open|close)|closed on (?:weekends|sundays|holidays)|holiday (?:hours|closure)|"
                r"what time (?:do|does|are|is) (?:you|your|the)\b.{0,20}\b(?:open|close|closing|opening)"
            ),
        ),
        (
            "ja:return_policy",
            7.0,
            (
                r"(?:返品|交換|返金)(?:・交換)?(?:の)?(?:ポリシー|規定|条件|期限|期間)|"
                r"何日以内(?:なら|であれば|に)?(?:返品|交換)|(?:返品|交換)(?:や|と)(?:返品|交換)(?:の|は)(?:方法|条件|規定)|"
                r"(?:返品|交換)(?:は|を)?(?:受け付けて|受付して|対応して)(?:いますか|ますか)"
            ),
        ),
        (
            "ja:payment_methods",
            7.0,
            (
                r"(?:(?:お)?支払い?|決済)方法(?!.{0,4}(?:変更|変え))|(?:使え|利用でき)る(?:カード|クレジット|決済|支払)|"
                r"(?:代引き?|代金引換|後払い|コンビニ(?:払い|決済)|ペイペイ|paypay|銀行振込|楽天ペイ|"
                r"クレジットカード|アップルペイ|apple pay)(?:は|に|で|も|での)?(?:支払)?"
                r"(?:でき|対応|使え|可能|利用|払え)"
            ),
        ),
        ("ja:gift_wrapping", 5.0, r"ラッピング|ギフト包装|ギフト用|プレゼント用|のし|熨斗|メッセージカード"),
        ("ja:business_hours", 5.0, r"営業時間|定休日|営業日|何時まで(?:営業|開いて)|何時から(?:営業|開いて)"),
    ),
    *_rules(
        Intent.OTHER,
        ("en:sale", 3.0, r"\bsale\b|clearance|black friday|discount(?! code)|promotion|newsletter"),
        (
            "en:product_info",
            4.5,
            (
                r"size (?:chart|guide)|what size (?:should|would|do) i|"
                r"how (?:does|do) (?:it|they|the \w+) fit|material|fabric|made of|made in|waterproof|"
                r"washable|machine wash|how to (?:wash|care|use)|care instructions|dimensions|"
                r"measurements|weigh|warranty|job|wholesale|collaborat|partnership|instagram|recommend"
            ),
        ),
        (
            "en:thanks",
            2.0,
            (
                r"^(?:thanks|thank you|thx|ty|ok|okay|great|perfect|cool|got it|hello|hi|"
                r"hey)\b[ .!]*(?:so much|a lot|again|there)?[ .!]*$"
            ),
        ),
        ("ja:sale", 4.0, r"在庫処分|セール|アウトレット|福袋|キャンペーン|メルマガ|会員登録"),
        (
            "ja:product_info",
            4.5,
            (
                r"サイズ感|サイズ表|素材|生地|洗濯|お手入れ|洗え|防水|何製|日本製|サイズ選び|どちらのサイズ|保証|求人|卸|コラボ|"
                r"おすすめ|使い方|重さ|寸法"
            ),
        ),
        (
            "ja:thanks",
            2.0,
            (
                r"^(?:ありがとう(?:ございます|ございました)?|了解(?:です|しました)?|"
                r"承知しました|わかりました|こんにちは|よろしくお願いします)[!! .]*$"
            ),
        ),
    ),
]
