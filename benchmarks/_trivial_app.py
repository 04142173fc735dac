"""The reference: the most trivial FastAPI endpoint, served the same way as the API."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
def ping() -> dict[str, bool]:
    return {"ok": True}
