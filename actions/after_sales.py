"""After-sales: order status by order number, handoff to a human, feedback for staff review."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime, state
from actions.formatting import yuan
from actions.guidance import where_we_are
from actions.turn import Reply
from knowledge_graph.conversations import find_order_id, record_flag
from knowledge_graph.handoff import HandoffQueue

log = logging.getLogger(__name__)

STATUS_TEXT = {
    "pending_payment": "待付款，请在订单页完成支付，超过24小时未付款会自动取消",
    "paid": "已付款，仓库正在备货，48小时内发货",
    "shipped": "已发货",
    "delivered": "已签收",
    "cancelled": "已取消",
    "refunding": "退款处理中，一般1-3个工作日原路退回",
    "refunded": "已退款",
}


class ActionOrderStatus(Action):
    def name(self) -> str:
        return "action_order_status"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = Reply(dispatcher, self.name())
        text = " ".join([state.text_of(tracker), *state.entity_values(tracker, "order_id")])
        order_id, looked_like_one = find_order_id(text)
        if order_id is None:
            hint = "这个订单号格式好像不对，" if looked_like_one else ""
            reply.utter_message(
                text=f"{hint}请发一下订单号，是 DG 开头加 14 位数字，比如 DG20261105001234，在「我的订单」里可以找到。"
            )
            return []
        order = runtime.orders().get(order_id)
        if order is None:
            reply.utter_message(
                text=f"没有查到订单 {order_id}，麻烦核对一下订单号；如果确认没错，可以说「转人工」让客服帮您查。",
                buttons=[{"title": "转人工", "payload": "转人工"}],
            )
            return []
        if order["user_id"] != tracker.sender_id:
            # The sender id is the shopper's signed identity (web/identity.py): another
            # account's order is not described to them.
            reply.utter_message(
                text=f"订单 {order_id} 不是您账号下的订单，无法查看详情。请登录下单时用的账号再查；有疑问可以说「转人工」。",
                buttons=[{"title": "转人工", "payload": "转人工"}],
            )
            return []
        reply.utter_message(text=self.describe(order))
        return []

    @staticmethod
    def describe(order: dict[str, Any]) -> str:
        status = STATUS_TEXT.get(order["status"], order["status"])
        total = sum(item.get("price", 0) * item.get("qty", 1) for item in order["items"])
        text = f"订单 {order['order_id']}（共 {len(order['items'])} 件，{yuan(total)}）：{status}"
        if order["status"] == "shipped" and order.get("carrier"):
            text += f"，{order['carrier']} 运单号 {order['tracking_no']}"
            if order.get("eta"):
                text += f"，预计 {order['eta']} 送达"
        return text + "。"


class ActionRequestHuman(Action):
    """Pauses the bot for this conversation and puts it in the staff queue: a `handoffs` row
    (knowledge_graph/handoff.py) that staff take in the console. From here until the request is
    released or given up, what the shopper hears comes from the web app (web/handoff_loop.py),
    since a paused Rasa runs no action."""

    def name(self) -> str:
        return "action_request_human"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = Reply(dispatcher, self.name())
        text = state.text_of(tracker)
        record_flag(runtime.store(), tracker.sender_id, "handoff", text)
        try:
            HandoffQueue(runtime.store()).request(tracker.sender_id, text)
        except Exception:  # the shopper is still paused and flagged for staff
            log.exception("could not queue the handoff of %s", tracker.sender_id)
        reply.utter_message(
            text="好的，已为您转接人工客服，请稍等，客服上线后会在这里回复您。您可以先把问题描述一下，客服会看到的。"
        )
        return [ConversationPaused()]


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = Reply(dispatcher, self.name())
        text = state.text_of(tracker)
        negative = any(
            w in text
            for w in ("👎", "不对", "错", "没用", "不好", "答非所问", "差", "听不懂", "垃圾")
        )
        record_flag(
            runtime.store(), tracker.sender_id, "feedback_down" if negative else "feedback_up", text
        )
        if negative:
            reply.utter_message(
                text="抱歉没帮上忙，已经记下了，我们会改进。您可以换个说法再问一次，或者说「转人工」。",
                buttons=[{"title": "转人工", "payload": "转人工"}],
            )
        else:
            hint = where_we_are(runtime.view(), tracker)
            reply.utter_message(text=f"谢谢您的肯定！{hint or '还有什么可以帮您的吗？'}")
        return []
