import AssignmentService
import ServiceKit

await ServiceMain.run(AssignmentService.definition)
