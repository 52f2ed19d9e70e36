import IntakeService
import ServiceKit

await ServiceMain.run(IntakeService.definition)
