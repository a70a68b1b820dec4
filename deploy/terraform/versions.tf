terraform {
  # Preconditions (stack.tf) need 1.2; the rest of the module works on any 1.x.
  required_version = ">= 1.2"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
