print("combo")
