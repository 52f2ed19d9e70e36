import ServiceKit
import TriageService

await ServiceMain.run(TriageService.definition)
