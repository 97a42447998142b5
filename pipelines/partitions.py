"""Each monthly delivery folder (YYYY-MM) of the inbox is one partition of every asset."""

from dagster import DynamicPartitionsDefinition

deliveries = DynamicPartitionsDefinition(name="delivery")
