output "stack_id" {
  description = "ID of the tuner's CloudFormation stack"
  value       = aws_cloudformation_stack.autotuner.id
}

output "stack_outputs" {
  description = "The stack's Outputs (StateMachineArn, RunHistoryTableName, StartTuningPolicyArn, ...), as template.yaml declares them"
  value       = aws_cloudformation_stack.autotuner.outputs
}

output "state_machine_arn" {
  description = "Start executions of this state machine (console, CLI, other workloads)"
  value       = aws_cloudformation_stack.autotuner.outputs["StateMachineArn"]
}

output "start_tuning_policy_arn" {
  description = "Managed policy to attach to a workload that starts and follows tuning executions"
  value       = aws_cloudformation_stack.autotuner.outputs["StartTuningPolicyArn"]
}
