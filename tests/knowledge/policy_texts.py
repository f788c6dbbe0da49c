"""Policies as a merchant writes them in Shopify (HTML), in Japanese and English, for the tests."""

from __future__ import annotations

from integrations.shopify.shop_policies import ShopPolicyRecord

SHIPPING_EN = """<h2>Shipping times</h2>
<p>Orders placed before 2 pm ship the same business day. Delivery within Japan usually takes 2 to 4 business
days after shipping.</p>
<h2>Shipping costs</h2>
<p>Shipping costs a flat 800 yen per order anywhere in Japan. Orders over 10,000 yen ship free.</p>
<h2>International shipping</h2>
<p>We ship to the United States, Canada and Europe by EMS. International delivery takes 7 to 14 days.</p>
<script>alert('x')</script>"""

REFUND_EN = """<h2>Returns</h2>
<p>Unworn items can be returned within 30 days of delivery for a full refund. Sale items cannot be
returned.</p>
<h2>Exchanges</h2>
<p>We exchange items for a different size free of charge within 30 days of delivery.</p>"""

SHIPPING_JA = """<h2>発送について</h2>
<p>14時までのご注文は当日発送いたします。国内のお届けは発送後2〜4営業日です。</p>
<h2>送料</h2>
<p>送料は全国一律800円です。10,000円以上のご注文で送料無料となります。</p>
<h2>海外発送</h2>
<p>アメリカ・カナダ・ヨーロッパへEMSで発送しております。お届けまで7〜14日かかります。</p>"""

REFUND_JA = """<h2>返品について</h2>
<p>未使用の商品に限り、商品到着後30日以内であれば返品・返金を承ります。セール品は返品できません。</p>
<h2>交換について</h2>
<p>商品到着後30日以内であれば、別のサイズへの交換を無料で承ります。</p>"""


def records(language: str) -> list[ShopPolicyRecord]:
    shipping, refund = (SHIPPING_JA, REFUND_JA) if language == "ja" else (SHIPPING_EN, REFUND_EN)
    titles = ("配送ポリシー", "返金ポリシー") if language == "ja" else ("Shipping policy", "Refund policy")
    return [
        ShopPolicyRecord(
            shopify_id=9001,
            policy_type="SHIPPING_POLICY",
            title=titles[0],
            body=shipping,
            url="https://shop.example/policies/shipping-policy",
            updated_at=None,
        ),
        ShopPolicyRecord(
            shopify_id=9002,
            policy_type="REFUND_POLICY",
            title=titles[1],
            body=refund,
            url="https://shop.example/policies/refund-policy",
            updated_at=None,
        ),
    ]
