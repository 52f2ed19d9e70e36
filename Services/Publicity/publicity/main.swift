import PublicityService
import ServiceKit

await ServiceMain.run(PublicityService.definition)
