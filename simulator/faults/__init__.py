from simulator.faults.engine import FaultEngine, FaultRule, RequestKey

__all__ = ["FaultEngine", "FaultRule", "RequestKey"]
