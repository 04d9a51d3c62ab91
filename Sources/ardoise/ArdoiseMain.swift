import ArdoiseCLI

@main
struct ArdoiseMain {
    static func main() async {
        await ArdoiseCommand.main()
    }
}
