"""The rota: weekly hours, time off, extra hours, closures and holidays."""
