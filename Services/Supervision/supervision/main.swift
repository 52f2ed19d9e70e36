import SupervisionService
import ServiceKit

await ServiceMain.run(SupervisionService.definition)
