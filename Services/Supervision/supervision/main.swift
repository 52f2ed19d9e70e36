import ServiceKit
import SupervisionService

await ServiceMain.run(SupervisionService.definition)
