import Combo
