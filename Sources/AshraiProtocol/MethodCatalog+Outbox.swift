import AshraiCore

extension Schema {
    /// A message in the outbox.
    public static let message = object([
        "id": id, "letter_id": nullable(id), "customer_id": id, "channel": oneOf(MessageChannel.self), "recipient": string,
        "subject": string, "message_id": string, "state": oneOf(MessageState.self), "attempts": ["type": "integer"],
        "next_attempt_at": instant, "last_error": nullable(string), "provider_id": nullable(string), "cancel_reason": nullable(string),
        "created_at": instant, "sending_at": nullable(instant), "sent_at": nullable(instant),
        "body_text": string, "body_html": nullable(string), "fallback": array(oneOf(MessageChannel.self)),
        "raw_sha256": nullable(string), "raw_bytes": nullable(["type": "integer"]), "raw_base64": nullable(string),
    ], required: ["id", "customer_id", "channel", "recipient", "subject", "message_id", "state", "attempts", "created_at"])
}

extension MethodCatalog {
    static let outboxMethods: [MethodSpec] = [
        MethodSpec(name: "outbox.list",
                   summary: "Messages in the outbox, oldest first: by state (queued, sending, sent, retrying, failed, cancelled, unknown), channel and customer.",
                   access: staff,
                   params: [.optional("state", Schema.oneOf(MessageState.self)), .optional("customer_id", Schema.id),
                            .optional("channel", Schema.oneOf(MessageChannel.self)),
                            .optional("limit", ["type": "integer", "minimum": 1, "maximum": 500]), .optional("after", Schema.id)],
                   result: Schema.object(["messages": Schema.array(Schema.message), "next_after": Schema.nullable(Schema.id)],
                                         required: ["messages", "next_after"])),
        MethodSpec(name: "outbox.get",
                   summary: "One message, with the text and HTML that were (or will be) sent; raw: true adds the exact bytes handed over (the RFC 5322 e-mail with its attachments, or the gateway's JSON body), base64.",
                   access: staff, params: [.required("id", Schema.id), .optional("raw", Schema.bool)], result: Schema.message),
        MethodSpec(name: "outbox.retry",
                   summary: "Send a failed, unknown, cancelled or retrying message again now (inside the sending hours), with the same Message-ID.",
                   access: managers, params: [.required("id", Schema.id)], result: Schema.message),
        MethodSpec(name: "outbox.cancel", summary: "Do not send a queued, retrying, unknown or failed message; the reason is kept.",
                   access: managers, params: [.required("id", Schema.id), .required("reason", Schema.text)], result: Schema.message),
    ]
}
