import AshraiCore

extension Schema {
    public static let trainingTopic: JSONValue = oneOf(TrainingTopic.self)
    public static let staffRoles: JSONValue = array(oneOf(Role.staff))
    public static let course = object([
        "id": id, "code": string, "title": string, "topic": trainingTopic, "required_for_roles": staffRoles,
        "validity_months": nullable(["type": "integer"]), "description": nullable(string), "version": ["type": "integer"],
    ], required: ["id", "code", "title", "topic", "required_for_roles"])
    public static let trainingRecord = object([
        "id": id, "user_id": id, "username": string, "course_code": string, "course_title": string, "completed_on": date,
        "expires_on": nullable(date), "score": nullable(percent), "trainer": nullable(string), "certificate_ref": nullable(string),
        "notes": nullable(string),
    ], required: ["id", "user_id", "course_code", "completed_on"])
}

extension MethodCatalog {
    static let trainingMethods: [MethodSpec] = [
        MethodSpec(name: "training.courses.create", summary: "A training course, the staff roles that must have it and how many months it counts.",
                   access: managers,
                   params: [.required("code", Schema.string(maxLength: 40)), .required("title", Schema.string(maxLength: 200)),
                            .required("topic", Schema.trainingTopic), .optional("required_for_roles", Schema.staffRoles),
                            .optional("validity_months", ["type": "integer", "minimum": 1, "maximum": 120]), .optional("description", Schema.text)],
                   result: Schema.course),
        MethodSpec(name: "training.courses.list", summary: "Training courses.", access: staff, params: [],
                   result: Schema.object(["courses": Schema.array(Schema.course)], required: ["courses"])),
        MethodSpec(name: "training.courses.update", summary: "Change a course (by code).", access: managers,
                   params: [.required("code", Schema.string(maxLength: 40)), .optional("title", Schema.string(maxLength: 200)),
                            .optional("topic", Schema.trainingTopic), .optional("required_for_roles", Schema.staffRoles),
                            .optional("validity_months", ["type": "integer", "minimum": 1, "maximum": 120]), .optional("description", Schema.text)],
                   result: Schema.course),
        MethodSpec(name: "training.records.add", summary: "Record that a staff member completed a course.", access: managers,
                   params: [.required("user_id", Schema.id), .required("course_code", Schema.string(maxLength: 40)), .required("completed_on", Schema.date),
                            .optional("score", Schema.percent), .optional("trainer", Schema.string(maxLength: 200)),
                            .optional("certificate_ref", Schema.string(maxLength: 200)), .optional("notes", Schema.text)],
                   result: Schema.trainingRecord),
        MethodSpec(name: "training.records.list", summary: "Training records, newest first; a clerk reads only their own.", access: staff,
                   params: [.optional("user_id", Schema.id)],
                   result: Schema.object(["records": Schema.array(Schema.trainingRecord)], required: ["records"])),
        MethodSpec(name: "training.compliance",
                   summary: "Per active staff member: each course their role requires — missing, expired, expiring within 30 days, or current — and the team's compliance rate.",
                   access: managers, params: [.optional("as_of", Schema.date)],
                   result: Schema.object([
                       "as_of": Schema.date, "compliance_rate": Schema.nullable(Schema.percent),
                       "users": Schema.array(Schema.object(["user_id": Schema.id, "username": Schema.string, "role": Schema.string, "compliant": Schema.bool,
                                                            "courses": Schema.array(["type": "object"])], required: ["user_id", "compliant", "courses"])),
                   ], required: ["as_of", "users", "compliance_rate"])),
    ]
}
