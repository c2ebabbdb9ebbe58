"""The LangGraph peer benchmark's workloads, one module per workload family;
`langgraph_bench.py` is the entry point."""
