import requests
BASEURL = "https://kitkot.xyz/api"
API_KEY = "my-api-key"
session_key = "my-session-key"
room_id = "someroomID"
content = "Hello from a program!"
request = requests.get(f"{BASEURL}/live/chat/send_message?api_key={API_KEY}&session_key={session_key}&room_id={room_id}&content={content}")
response = request.json()
print(response)
