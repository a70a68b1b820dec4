# Deploys the tuner as one CloudFormation stack from the packaged SAM template (`sam package`
# output in S3, docs/deploy.md). CloudFormation runs the SAM transform, hence CAPABILITY_AUTO_EXPAND;
# the stack creates IAM roles and policies without custom names, hence CAPABILITY_IAM.

variable "stack_name" {
  description = "Name of the CloudFormation stack: at most 44 characters, or 43 with name_prefix included (function names are limited to 64)."
  type        = string
  default     = "lambda-autotuner"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,127}$", var.stack_name))
    error_message = "stack_name must start with a letter and hold only letters, digits and hyphens (at most 128 characters)."
  }
}

variable "template_url" {
  description = "HTTPS URL of the packaged template in S3: the file `sam package --output-template-file` wrote, uploaded next to its artifacts."
  type        = string

  validation {
    condition     = can(regex("^https://", var.template_url))
    error_message = "template_url must be an https:// URL of the packaged template in S3."
  }
}

variable "notification_arns" {
  description = "SNS topics that receive the stack's CloudFormation events (optional)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags CloudFormation puts on the stack and every resource it creates that takes tags."
  type        = map(string)
  default     = {}
}

resource "aws_cloudformation_stack" "autotuner" {
  # checkov:skip=CKV_AWS_124:Stack event notifications are the caller's choice (notification_arns, empty by default); the tuner's own alarms notify AlarmTopicArn.
  name              = var.stack_name
  template_url      = var.template_url
  capabilities      = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
  parameters        = local.parameters
  notification_arns = var.notification_arns
  on_failure        = "ROLLBACK"
  tags              = var.tags

  lifecycle {
    precondition {
      condition     = (length(var.subnet_ids) == 0) == (length(var.security_group_ids) == 0)
      error_message = "Set both subnet_ids and security_group_ids (to run the functions in a VPC), or neither."
    }
    precondition {
      # {name_prefix}{stack_name}-MeasureConfiguration, or {stack_name}-ValidatePermissions without a prefix.
      condition     = length(var.name_prefix) + length(var.stack_name) <= (var.name_prefix == "" ? 44 : 43)
      error_message = "name_prefix and stack_name together may have at most 43 characters (stack_name alone 44): function names are limited to 64."
    }
  }
}
