import Foundation
import Logging
import PublicityService
import ServiceKit
import Storage

// `publicity` runs the service; `publicity rebuild-read-model` empties the public tables and
// replays every input topic into them (same environment variables), then exits.
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case nil:
    await ServiceMain.run(PublicityService.definition)
case "rebuild-read-model":
    await PublicityCommands.rebuild()
case "-h", "--help", "help":
    print(
        """
        usage: publicity                       run the service (configured by environment variables, see docs/configuration.md)
               publicity rebuild-read-model    rebuild the public read model from the topics, then exit
        """)
default:
    FileHandle.standardError.write(Data("publicity: unknown command \(arguments[0]); see publicity --help\n".utf8))
    exit(2)
}
