import ArgumentParser

/// `ashrai users …` (admin).
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage staff logins (admin).",
        subcommands: [UsersAdd.self, UsersList.self, UsersShow.self, UsersSetRole.self, UsersDisable.self,
                      UsersEnable.self, UsersResetPassword.self])
}
