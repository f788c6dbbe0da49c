"""Every word the pages show, in Japanese and English."""

from __future__ import annotations

from starlette.requests import Request

LANGUAGES = ("ja", "en")

TEXT: dict[str, dict[str, str]] = {
    "ja": {
        "title": "LINE トーク（シミュレーター）",
        "simulator": "devline: LINEのシミュレーター",
        "you_are": "あなた",
        "placeholder": "メッセージを入力",
        "send": "送信",
        "sticker": "スタンプ",
        "image": "画像",
        "follow": "友だち追加",
        "unfollow": "ブロック",
        "typing": "入力中…",
        "followed": "友だち追加しました",
        "unfollowed": "ブロックしました",
        "linked": "アカウントを連携しました",
        "link_failed": "アカウントを連携できませんでした",
        "sticker_sent": "（スタンプ）",
        "image_sent": "（画像）",
        "unsend": "送信取消",
        "unsent": "メッセージの送信を取り消しました",
        "not_friend": "友だち追加すると、メッセージを送れます。",
        "send_failed": "送信できませんでした。",
        "empty": "まだメッセージはありません。",
        "other_language": "English",
        "unknown_chat": "このトークは見つかりません。",
        "link_ok_title": "連携が完了しました",
        "link_ok_body": "LINEアカウントとの連携が完了しました。トークに戻ってください。",
        "link_failed_title": "連携できませんでした",
        "link_failed_body": (
            "このリンクは有効期限が切れているか、すでに使われています。もう一度お試しください。"
        ),
        "link_invalid_title": "リンクが正しくありません",
        "link_invalid_body": "連携用のリンクが正しくありません。",
        "back_to_chat": "トークに戻る",
        "channels": "チャネル",
        "new_chat": "新しいユーザーでトークを開く",
        "no_channels": "チャネルがありません。POST /_devline/channels で作成できます。",
    },
    "en": {
        "title": "LINE chat (simulator)",
        "simulator": "devline: a simulated LINE",
        "you_are": "You",
        "placeholder": "Enter a message",
        "send": "Send",
        "sticker": "Sticker",
        "image": "Image",
        "follow": "Add friend",
        "unfollow": "Block",
        "typing": "typing…",
        "followed": "You added this account as a friend",
        "unfollowed": "You blocked this account",
        "linked": "Your account is linked",
        "link_failed": "Your account could not be linked",
        "sticker_sent": "(sticker)",
        "image_sent": "(image)",
        "unsend": "Unsend",
        "unsent": "You unsent a message",
        "not_friend": "Add this account as a friend to send messages.",
        "send_failed": "Could not send.",
        "empty": "No messages yet.",
        "other_language": "日本語",
        "unknown_chat": "This chat does not exist.",
        "link_ok_title": "Account linked",
        "link_ok_body": "Your LINE account is now linked. Go back to the chat.",
        "link_failed_title": "Could not link",
        "link_failed_body": "This link has expired or was already used. Please try again.",
        "link_invalid_title": "This link is not valid",
        "link_invalid_body": "The account-link URL is not valid.",
        "back_to_chat": "Back to the chat",
        "channels": "Channels",
        "new_chat": "Open a chat as a new user",
        "no_channels": "No channels yet. Create one with POST /_devline/channels.",
    },
}


def language_of(request: Request) -> str:
    """``?lang=ja|en``, else the first of the browser's languages that is one of ours, else English."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        for language in LANGUAGES:
            if tag == language or tag.startswith(language + "-"):
                return language
    return "en"
