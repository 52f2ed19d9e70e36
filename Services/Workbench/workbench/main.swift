import ServiceKit
import WorkbenchService

await ServiceMain.run(WorkbenchService.definition)
