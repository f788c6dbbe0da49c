"""The demo shops' policies (``shop.shopPolicies``), written as merchants write them in Shopify's admin:
HTML with headings, in the shop's own language (Japanese shops Japanese, the others English)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from devstore.generator.ids import gid
from devstore.state import isoformat_z

_JA = {
    "REFUND_POLICY": (
        "返金ポリシー",
        "refund-policy",
        """<h2>返品について</h2>
<p>未使用・未洗濯の商品に限り、商品到着後30日以内であれば返品・返金を承ります。セール品・福袋は返品をお受けできません。</p>
<h2>交換について</h2>
<p>サイズ交換は商品到着後30日以内であれば1回まで無料で承ります。在庫がない場合は返金にて対応いたします。</p>
<h2>返金の時期</h2>
<p>返品された商品が倉庫に到着してから5営業日以内に、ご購入時のお支払い方法へ返金いたします。</p>""",
    ),
    "SHIPPING_POLICY": (
        "配送ポリシー",
        "shipping-policy",
        """<h2>発送までの日数</h2>
<p>平日14時までのご注文は当日発送いたします。土日祝日のご注文は翌営業日の発送です。</p>
<h2>送料</h2>
<p>送料は全国一律800円です。10,000円以上のご注文で送料無料となります。沖縄・離島は別途500円を頂戴します。</p>
<h2>お届け日数</h2>
<p>発送後、本州は1〜2日、北海道・九州は2〜3日、沖縄・離島は3〜5日でお届けします。配送業者はヤマト運輸です。</p>
<h2>海外発送</h2>
<p>アメリカ・カナダ・ヨーロッパへEMSで発送しております。お届けまで7〜14日かかります。</p>""",
    ),
    "CONTACT_INFORMATION": (
        "お問い合わせ先",
        "contact-information",
        """<h2>営業時間</h2>
<p>カスタマーサポートの営業時間は平日10時〜18時です。土日祝日は定休日です。</p>
<h2>お支払い方法</h2>
<p>クレジットカード（Visa・Mastercard・JCB・American Express）、コンビニ払い、代金引換、
PayPayがご利用いただけます。</p>
<h2>ギフトラッピング</h2>
<p>ギフトラッピングは1点につき300円で承ります。のし・メッセージカードも無料でお付けできます。</p>""",
    ),
    "PRIVACY_POLICY": (
        "プライバシーポリシー",
        "privacy-policy",
        "<p>お客様の個人情報は、ご注文の処理とお問い合わせへの回答のためにのみ利用いたします。</p>",
    ),
}

_EN = {
    "REFUND_POLICY": (
        "Refund policy",
        "refund-policy",
        """<h2>Returns</h2>
<p>Unworn, unwashed items can be returned within 30 days of delivery for a full refund. Sale items and gift
cards cannot be returned.</p>
<h2>Exchanges</h2>
<p>We exchange an item for a different size once, free of charge, within 30 days of delivery. If the size is
sold out we refund it instead.</p>
<h2>Refund timing</h2>
<p>Refunds go back to the original payment method within 5 business days of the return reaching our
warehouse.</p>""",
    ),
    "SHIPPING_POLICY": (
        "Shipping policy",
        "shipping-policy",
        """<h2>Processing time</h2>
<p>Orders placed before 2 pm on a business day ship the same day; weekend orders ship the next business
day.</p>
<h2>Shipping costs</h2>
<p>Standard shipping costs a flat $8 per order. Orders over $100 ship free within the United States.</p>
<h2>Delivery times</h2>
<p>Standard delivery takes 3 to 5 business days after shipping; express delivery takes 1 to 2 business days.
We ship with UPS and USPS.</p>
<h2>International shipping</h2>
<p>We ship to Canada, Japan and Europe. International delivery takes 7 to 14 days; duties are paid by the
recipient.</p>""",
    ),
    "CONTACT_INFORMATION": (
        "Contact information",
        "contact-information",
        """<h2>Business hours</h2>
<p>Our support team is open Monday to Friday, 9 am to 5 pm Eastern time, and closed on public holidays.</p>
<h2>Payment methods</h2>
<p>We accept Visa, Mastercard, American Express, PayPal, Apple Pay and Shop Pay.</p>
<h2>Gift wrapping</h2>
<p>Gift wrapping is $5 per item and includes a handwritten gift message.</p>""",
    ),
    "PRIVACY_POLICY": (
        "Privacy policy",
        "privacy-policy",
        "<p>We use your personal information only to process your orders and answer your questions.</p>",
    ),
}


def policy_docs(*, shop_id: int, domain: str, japanese: bool, created_at: datetime) -> list[dict[str, Any]]:
    texts = _JA if japanese else _EN
    return [
        {
            "id": gid("ShopPolicy", shop_id * 100 + position),
            "type": policy_type,
            "title": title,
            "body": body,
            "url": f"https://{domain}/policies/{handle}",
            "createdAt": isoformat_z(created_at),
            "updatedAt": isoformat_z(created_at),
        }
        for position, (policy_type, (title, handle, body)) in enumerate(texts.items(), start=1)
    ]
