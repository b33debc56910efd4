"""Kitura-Sample's Routes/BasicAuthRoutes.swift, ported line for line."""
from __future__ import annotations

from typing import Any

from kitura import RequestError
from kitura.credentials import Credentials, CredentialsHTTPBasic, UserProfile
from kitura.net import HTTPStatusCode

from auth_models import MyBasicAuth, SignUp, UserPasswords
from models import Name


def initialize_basic_auth_routes(app: Any) -> None:
    # Codable Authentication
    @app.router.post("/signup")
    def signup(user: SignUp, respond_with):
        if UserPasswords.add_password(username=user.username, password=user.password):
            respond_with(Name(name=user.username), None)
        else:
            respond_with(None, RequestError.CONFLICT)

    @app.router.get("/basic")
    def basic(user: MyBasicAuth, respond_with):
        print(f"authenticated {user.id} using {user.provider}")
        respond_with(user, None)

    @app.router.delete("/clearusers")
    def clear_users(respond_with):
        UserPasswords.clear_passwords()
        respond_with(None)

    credentials = Credentials()
    credentials.register(plugin=basic_credentials())
    app.router.all("/rawbasic", middleware=credentials)

    @app.router.get("/rawbasic")
    def rawbasic(request, response, next):
        user = request.user_profile
        if user is None:
            response.status(HTTPStatusCode.INTERNAL_SERVER_ERROR).end()
            return
        response.send(f"authenticated {user.id}").end()


# Raw authentication (Swift: a computed property of App)
def basic_credentials() -> CredentialsHTTPBasic:
    def verify_password(user_id, password, callback):
        if UserPasswords.check_password(username=user_id, password=password):
            callback(UserProfile(id=user_id, display_name=user_id, provider="HTTPBasic"))
        else:
            callback(None)
    basic_creds = CredentialsHTTPBasic(verify_password=verify_password)
    basic_creds.realm = "HTTP Basic authentication: Username = username, Password = password"
    return basic_creds
