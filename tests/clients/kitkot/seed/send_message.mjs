const BASEURL = "https://kitkot.xyz/api";
const API_KEY = "my-api-key";
const session_key = "my-session-key";
const room_id = "someroomID";
const content = "Hello from a program!";
const request = await fetch(`${BASEURL}/live/chat/send_message?api_key=${API_KEY}&session_key=${session_key}&room_id=${room_id}&content=${content}`);
const response = await request.json();
console.log(response);
