"""Words the generated merchants use: products, colours, sizes, names, places and carriers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProductKind:
    title_ja: str
    title_en: str
    product_type_ja: str
    product_type_en: str
    sizes: tuple[str, ...]
    price_jpy: int
    price_usd_cents: int


APPAREL_SIZES = ("S", "M", "L", "XL")
SHOE_SIZES = ("22cm", "23cm", "24cm", "25cm", "26cm", "27cm", "28cm")

PRODUCT_KINDS = (
    ProductKind(
        "オーガニックコットンTシャツ", "Organic Cotton Tee", "トップス", "Tops", APPAREL_SIZES, 4_950, 3_200
    ),
    ProductKind("リネンシャツ", "Linen Shirt", "トップス", "Tops", APPAREL_SIZES, 9_900, 6_800),
    ProductKind("ウールニット", "Merino Wool Sweater", "ニット", "Knitwear", APPAREL_SIZES, 14_300, 9_800),
    ProductKind("ワイドパンツ", "Wide Leg Trousers", "ボトムス", "Bottoms", APPAREL_SIZES, 12_100, 8_400),
    ProductKind("デニムジャケット", "Denim Jacket", "アウター", "Outerwear", APPAREL_SIZES, 19_800, 12_900),
    ProductKind("ダウンコート", "Down Parka", "アウター", "Outerwear", APPAREL_SIZES, 39_600, 24_900),
    ProductKind("レザースニーカー", "Leather Sneakers", "シューズ", "Shoes", SHOE_SIZES, 16_500, 11_900),
    ProductKind("ランニングシューズ", "Running Shoes", "シューズ", "Shoes", SHOE_SIZES, 13_200, 9_500),
    ProductKind("スエードローファー", "Suede Loafers", "シューズ", "Shoes", SHOE_SIZES, 22_000, 15_800),
    ProductKind("保湿化粧水", "Hydrating Lotion", "スキンケア", "Skincare", (), 3_850, 2_800),
    ProductKind("美容液セラム", "Brightening Serum", "スキンケア", "Skincare", (), 6_600, 4_600),
    ProductKind("日焼け止めジェル", "Daily Sunscreen Gel", "スキンケア", "Skincare", (), 2_420, 1_900),
    ProductKind("リップバーム", "Tinted Lip Balm", "コスメ", "Cosmetics", (), 1_980, 1_400),
    ProductKind("クレンジングオイル", "Cleansing Oil", "スキンケア", "Skincare", (), 3_300, 2_600),
    ProductKind("キャンバストート", "Canvas Tote", "バッグ", "Bags", (), 5_500, 3_900),
    ProductKind("ソックス3足セット", "Socks 3-Pack", "小物", "Accessories", ("S", "M", "L"), 1_650, 1_500),
)

# (Japanese name, English name)
COLOURS = (
    ("ネイビー", "Navy"),
    ("黒", "Black"),
    ("白", "White"),
    ("グレー", "Grey"),
    ("ベージュ", "Beige"),
    ("カーキ", "Khaki"),
    ("ボルドー", "Burgundy"),
    ("生成り", "Natural"),
)
SCENTS = (("無香料", "Unscented"), ("ゆず", "Yuzu"), ("桜", "Sakura"), ("ヒノキ", "Hinoki"))
SERIES_JA = ("ベーシック", "プレミアム", "エッセンシャル", "クラシック", "ライト", "スタンダード")
SERIES_EN = ("Everyday", "Premium", "Essential", "Classic", "Light", "Standard")

JA_SURNAMES = (
    ("佐藤", "Sato"),
    ("鈴木", "Suzuki"),
    ("高橋", "Takahashi"),
    ("田中", "Tanaka"),
    ("伊藤", "Ito"),
    ("渡辺", "Watanabe"),
    ("山本", "Yamamoto"),
    ("中村", "Nakamura"),
    ("小林", "Kobayashi"),
    ("加藤", "Kato"),
    ("吉田", "Yoshida"),
    ("山田", "Yamada"),
    ("松本", "Matsumoto"),
    ("井上", "Inoue"),
    ("木村", "Kimura"),
)
JA_GIVEN = (
    ("陽子", "yoko"),
    ("花子", "hanako"),
    ("美咲", "misaki"),
    ("結衣", "yui"),
    ("さくら", "sakura"),
    ("健太", "kenta"),
    ("翔太", "shota"),
    ("大輔", "daisuke"),
    ("拓也", "takuya"),
    ("直美", "naomi"),
    ("真由美", "mayumi"),
    ("亮", "ryo"),
    ("愛", "ai"),
    ("恵", "megumi"),
    ("蓮", "ren"),
)
US_FIRST = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Olivia",
    "Noah",
    "Emma",
    "Liam",
    "Ava",
    "Sophia",
    "Mateo",
    "Chloe",
)
US_LAST = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Nguyen",
    "Kim",
    "O'Brien",
)
JA_EMAIL_DOMAINS = ("gmail.com", "yahoo.co.jp", "docomo.ne.jp", "ezweb.ne.jp", "icloud.com", "outlook.jp")
US_EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "aol.com")
JA_MOBILE_PREFIXES = ("090", "080", "070")

# (prefecture, province code, city, town, postal code)
JA_PLACES = (
    ("東京都", "JP-13", "渋谷区", "神宮前", "150-0001"),
    ("東京都", "JP-13", "世田谷区", "三軒茶屋", "154-0024"),
    ("東京都", "JP-13", "新宿区", "西新宿", "160-0023"),
    ("神奈川県", "JP-14", "横浜市中区", "山下町", "231-0023"),
    ("大阪府", "JP-27", "大阪市北区", "梅田", "530-0001"),
    ("京都府", "JP-26", "京都市中京区", "河原町", "604-8005"),
    ("愛知県", "JP-23", "名古屋市中区", "栄", "460-0008"),
    ("福岡県", "JP-40", "福岡市中央区", "天神", "810-0001"),
    ("北海道", "JP-01", "札幌市中央区", "大通西", "060-0042"),
    ("宮城県", "JP-04", "仙台市青葉区", "一番町", "980-0811"),
    ("沖縄県", "JP-47", "那覇市", "久茂地", "900-0015"),
    ("広島県", "JP-34", "広島市中区", "紙屋町", "730-0031"),
)
# (state, state code, city, zip, area code)
US_PLACES = (
    ("New York", "NY", "New York", "10001", "212"),
    ("California", "CA", "San Francisco", "94103", "415"),
    ("California", "CA", "Los Angeles", "90012", "213"),
    ("Illinois", "IL", "Chicago", "60607", "312"),
    ("Texas", "TX", "Austin", "78701", "512"),
    ("Washington", "WA", "Seattle", "98101", "206"),
    ("Massachusetts", "MA", "Boston", "02116", "617"),
    ("Colorado", "CO", "Denver", "80202", "303"),
    ("Georgia", "GA", "Atlanta", "30303", "404"),
    ("Oregon", "OR", "Portland", "97205", "503"),
)
US_STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Ave", "Park Pl")

DELIVERY_DATE_KEY = "配送希望日"
DELIVERY_SLOT_KEY = "配送時間帯"
DELIVERY_SLOTS = ("午前中", "14時〜16時", "16時〜18時", "18時〜20時", "19時〜21時", "指定なし")


@dataclass(frozen=True, slots=True)
class Carrier:
    names: tuple[str, ...]
    url_template: str | None
    number_digits: int
    number_prefix: str = ""
    url_probability: float = 1.0


# Japanese carriers often arrive as free text and without a tracking URL.
JA_CARRIERS = (
    Carrier(
        ("ヤマト運輸", "Yamato Transport", "Yamato (JA)"),
        "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id={number}",
        12,
        url_probability=0.5,
    ),
    Carrier(
        ("佐川急便", "Sagawa Express", "Sagawa (JA)"),
        "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo={number}",
        12,
        url_probability=0.4,
    ),
    Carrier(
        ("日本郵便", "Japan Post", "Japan Post (JA)"),
        "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={number}",
        11,
        url_probability=0.5,
    ),
)
US_CARRIERS = (
    Carrier(("UPS",), "https://www.ups.com/track?tracknum={number}", 16, "1Z"),
    Carrier(("USPS",), "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}", 22, "94"),
    Carrier(("FedEx",), "https://www.fedex.com/fedextrack/?trknbr={number}", 12),
)

CANCEL_REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER")
REFUND_NOTES_JA = ("サイズ交換のため返品", "商品不良", "お客様都合による返品", "配送中の破損")
REFUND_NOTES_EN = (
    "Wrong size returned",
    "Damaged in transit",
    "Customer changed their mind",
    "Defective item",
)
HOLD_NOTES_JA = ("住所確認中", "支払い確認待ち", "予約商品の入荷待ち")
HOLD_NOTES_EN = ("Address verification", "Awaiting payment review", "Waiting for pre-order stock")
